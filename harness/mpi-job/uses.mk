# The MPI job harness includes <mpi.h>: it builds with Open MPI's compiler wrapper, mpicc, around
# the kit's compiler (so CC=clang and SANITIZE=... still apply), and relaunches its programs
# under mpirun (openmpi-bin).
uses_debian := openmpi-bin libopenmpi-dev
uses_compiler := OMPI_CC=$(CC) mpicc
