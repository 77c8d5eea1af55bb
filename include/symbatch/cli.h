/* The command-line verbs (run, validate, inspect, generators), as a library call so that tests
 * can drive them on any communicator. */
#ifndef SYMBATCH_CLI_H
#define SYMBATCH_CLI_H

#include <mpi.h>
#include <stdio.h>

/* Runs one command line; collective over comm.  Returns the process exit code (0, 1, 2, 75). */
int sb_cli_main(int argc, char **argv, MPI_Comm comm, FILE *out, FILE *err);

#endif
