/* HDF5 error handling shared by the io module: silencing HDF5's automatic error printing for
 * the duration of an operation (symbatch prints its own message), and reading the innermost
 * (most specific) message of HDF5's error stack. */
#ifndef SB_IO_H5ERR_H
#define SB_IO_H5ERR_H

#include <hdf5.h>
#include <stddef.h>

/* HDF5's automatic error printing, saved while it is switched off. */
typedef struct sb_h5_quiet {
    H5E_auto2_t func;
    void *data;
} sb_h5_quiet;

sb_h5_quiet sb_h5_quiet_begin(void);
void sb_h5_quiet_end(sb_h5_quiet q);

/* The innermost message of the current error stack ("description: minor message") into out;
 * out is left untouched when the stack is empty. */
void sb_h5_innermost(char *out, size_t size);

#endif
