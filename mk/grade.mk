# Grading the exercises (README.md, "Grading a class"; exercises/README.md). The grader is
# tests/grade/grade; this fragment gives it its make targets and the student's comforts
# (progress, hint, reset, watch).
#
#   make grade                      grade exercises/ (EX=03 one exercise, STUDENT=dir a copy)
#   make grade STUDENT=~/mine       grade a student's copy of exercises/, built apart
#   make grade-class SUBMISSIONS=d  grade a class: one folder per student, one CSV, a JUnit
#                                   report per student (CLASS_OUT=dir, GRADE_JOBS=N: tests/grade/grade-class)
#   make handout [HANDOUT=dir]      the students' copy of the kit, without solutions/
#                                   (tests/grade/handout); make handout-check proves one
#   make grade-selftest             the grader's own tests: a solution full, stubs zero, the
#                                   deliberately broken solutions caught
#
# How a folder is graded: tests/grade/prepare copies it (exercises/NN-x, solutions/NN-x or the
# student's NN-x) into a scratch tree under $(BUILD_PREFIX)/grade/, beside the grader's own
# driver programs (tests/exercises/drivers/NN-x/*.c), and builds that tree's exercises/NN-x with
# this Makefile: the same rules and flags as the kit, in a build folder of its own. The bats
# files under tests/exercises/ then grade whatever folder they are pointed at.

EX ?=
STUDENT ?=
SUBMISSIONS ?=
CLASS_OUT ?=
GRADE_JOBS ?=
HANDOUT ?=
GRADE_ENV = KIT_CC='$(CC)' KIT_SANITIZE='$(SANITIZE)' KIT_BUILD_PREFIX='$(BUILD_PREFIX)'

.PHONY: grade grade-class handout handout-check grade-selftest progress hint reset watch grade-unit grade-unit-folder
grade: | deps-test
	@$(GRADE_ENV) tests/grade/grade $(if $(STUDENT),--dir '$(STUDENT)') $(if $(EX),--ex '$(EX)')

grade-class: | deps-test
	@$(if $(SUBMISSIONS),,echo "make grade-class SUBMISSIONS=dir: a folder with one folder per student" >&2; exit 2)
	@$(GRADE_ENV) tests/grade/grade-class '$(SUBMISSIONS)' $(if $(EX),--ex '$(EX)') \
	    $(if $(CLASS_OUT),--out '$(CLASS_OUT)') $(if $(GRADE_JOBS),--jobs '$(GRADE_JOBS)')

# The students' copy of the kit, without the answers (tests/grade/handout), and its proof.
handout:
	@KIT_BUILD_PREFIX='$(BUILD_PREFIX)' tests/grade/handout $(if $(HANDOUT),'$(HANDOUT)')

handout-check: | deps-test
	@KIT_BUILD_PREFIX='$(BUILD_PREFIX)' tests/grade/handout --check $(or $(HANDOUT),$(BUILD_PREFIX)/handout-check)

# In the students' copy there are no solutions/ to grade: make test tests the lessons and
# leaves the grading suites (tests/exercises) out, saying so; make grade grades their own.
ifeq ($(wildcard solutions/),)
ifeq ($(origin TESTS),file)
TESTS := $(filter-out tests/exercises,$(TESTS))
test: no-solutions-note
.PHONY: no-solutions-note
no-solutions-note:
	@echo "make test: no solutions/ in this copy of the kit, so the grading suites (tests/exercises) are left out; make grade grades your exercises"
endif
endif

grade-selftest: | deps-test
	@$(MAKE) -s test TESTS=tests/grade

progress: | deps-test
	@$(GRADE_ENV) tests/grade/grade --progress $(if $(STUDENT),--dir '$(STUDENT)')

hint:
	@tests/grade/hint '$(EX)' '$(or $(STUDENT),exercises)'

reset:
	@tests/grade/reset '$(EX)' '$(or $(STUDENT),exercises)'

watch: | deps-test
	@$(GRADE_ENV) tests/grade/watch '$(EX)' '$(or $(STUDENT),exercises)'

# Used by tests/grade/prepare inside its scratch tree: build one folder's programs, print where.
grade-unit: $(call unit_programs,$(GRADE_UNIT))
grade-unit-folder:
	@echo '$(BUILD)/$(GRADE_UNIT)'

HELP_LINES += "  make grade            grade exercises/ (EX=03 one exercise, STUDENT=dir a student's copy)"
HELP_LINES += "  make grade-class SUBMISSIONS=dir   grade a class (a folder per student): one CSV, JUnit per student"
HELP_LINES += "  make handout          the students' copy of the kit, without solutions (HANDOUT=dir)"
HELP_LINES += "  make handout-check    make a handout and prove it: no solutions, lesson tests pass, stubs grade 0"
HELP_LINES += "  make progress         how many exercises pass, and which"
HELP_LINES += "  make hint EX=03       the next hint for an exercise, one at a time"
HELP_LINES += "  make reset EX=03      put an exercise's stub back (asks first)"
HELP_LINES += "  make watch EX=03      re-grade an exercise on every save (needs inotifywait)"
HELP_LINES += "  make grade-selftest   the grader's own tests (solutions full, stubs zero, bugs caught)"

# The grader's tools: gdb (a hung submission's backtraces), patch (the broken solutions of
# its self-tests), xmllint (checks the JUnit report), inotifywait (make watch).
TEST_PACKAGES += gdb patch libxml2-utils inotify-tools
