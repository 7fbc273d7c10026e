# Chapter 14 builds with Open MPI's compiler wrapper, mpicc, around the kit's compiler (so CC=clang
# and SANITIZE=... still apply), and runs its programs with mpirun (openmpi-bin). Its programs
# start, check and end their MPI jobs with the kit's MPI job harness; mpi_sum sums with the
# kit's sum of squares (harness/sums).
uses_code := harness/mpi-job harness/sums
uses_debian := openmpi-bin libopenmpi-dev
uses_compiler := OMPI_CC=$(CC) mpicc
