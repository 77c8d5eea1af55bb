/* Serial HDF5 read-back helpers for MPI tests (with abortcheck.h's CHECK). */
#ifndef SB_TEST_H5CHECK_H
#define SB_TEST_H5CHECK_H

#include "abortcheck.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* A variable-length UTF-8 string attribute, malloc'd (the caller frees it). */

static inline char *read_attr_str(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    CHECK(a >= 0);
    hid_t ftype = H5Aget_type(a);
    CHECK(H5Tget_class(ftype) == H5T_STRING && H5Tis_variable_str(ftype) > 0);
    CHECK(H5Tget_cset(ftype) == H5T_CSET_UTF8);
    hid_t mtype = H5Tcopy(H5T_C_S1);
    H5Tset_size(mtype, H5T_VARIABLE);
    H5Tset_cset(mtype, H5T_CSET_UTF8);
    char *s = NULL;
    CHECK(H5Aread(a, mtype, &s) >= 0 && s != NULL);
    char *copy = strdup(s);
    H5free_memory(s);
    H5Tclose(mtype);
    H5Tclose(ftype);
    H5Aclose(a);
    return copy;
}

#endif
