# Chapter 14 builds with Open MPI's compiler wrapper, mpicc, around the kit's compiler (so CC=clang
# and SANITIZE=... still apply), and runs its programs with mpirun (openmpi-bin).
uses_debian := openmpi-bin libopenmpi-dev
uses_compiler := OMPI_CC=$(CC) mpicc
