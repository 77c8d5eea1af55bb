/* Small shared services: clocks, memory readings, human-readable numbers, hashing, RNG. */
#ifndef SYMBATCH_CORE_H
#define SYMBATCH_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic seconds (CLOCK_MONOTONIC). */
double sb_now(void);
/* Wall-clock time as ISO 8601 UTC ("2026-11-27T14:43:57Z") into buf (at least 21 bytes). */
void sb_utc_iso8601(char *buf, size_t size);

/* Current resident set size and peak resident set size of this process, in bytes (from
 * /proc/self/status; 0 when unavailable). */
uint64_t sb_mem_rss(void);
uint64_t sb_mem_peak(void);
/* MemAvailable of this node in bytes (from /proc/meminfo; 0 when unavailable). */
uint64_t sb_mem_available(void);

/* The folder that holds `path` into buf: "a/b.h5" -> "a", "b.h5" -> ".", "/b.h5" -> "/". */
void sb_path_folder(const char *path, char *buf, size_t size);

/* Formats a byte count as "1.56 GB" (decimal units, as the cost model in DESIGN.md uses). */
void sb_fmt_bytes(char *buf, size_t size, double bytes);
/* Parses "512MB", "2 GiB", "1.5G", "1000000" into bytes; returns 0 or SB_EINPUT. */
int sb_parse_bytes(const char *text, uint64_t *bytes);

/* splitmix64 finaliser: a fast, well-mixed 64-bit hash of one word. */
static inline uint64_t sb_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Counter-based random numbers: the value depends only on (seed, stream, position), never on
 * which rank asks or in which order, so results do not depend on the number of ranks. */
static inline uint64_t sb_rand64(uint64_t seed, uint64_t stream, uint64_t position)
{
    return sb_mix64(sb_mix64(seed ^ sb_mix64(stream)) + position);
}

/* Uniform double in [0, 1) from sb_rand64. */
static inline double sb_rand_unit(uint64_t seed, uint64_t stream, uint64_t position)
{
    return (double)(sb_rand64(seed, stream, position) >> 11) * 0x1.0p-53;
}

/* FNV-1a 64 of a byte string: used for job-text hashes and dataset checksums. */
uint64_t sb_fnv1a64(const void *data, size_t len, uint64_t h);
#define SB_FNV1A64_INIT 0xcbf29ce484222325ULL

/* The OpenBLAS kernel family in use ("SkylakeX", "Haswell", ...), or NULL when the BLAS is not
 * OpenBLAS. */
const char *sb_blas_core(void);
/* OpenBLAS 0.3.21 (Debian 12) does not recognise recent Intel CPUs (e.g. family 6 model 207)
 * and falls back to its generic SSE3 "Prescott" kernels, which run dgemm 2-3x slower than the
 * CPU allows.  OpenBLAS picks its kernels when it is loaded, before main, from the environment
 * variable OPENBLAS_CORETYPE; this returns the value to set (then re-execute) on such a CPU
 * ("SkylakeX" with AVX-512, "Haswell" with AVX2 and FMA), or NULL when OpenBLAS chose a kernel
 * itself, OPENBLAS_CORETYPE is set, or the BLAS is not OpenBLAS. */
const char *sb_blas_better_core(void);
/* Before MPI_Init: when sb_blas_better_core names kernels, sets OPENBLAS_CORETYPE and
 * re-executes this binary by its own path with argv (the process keeps its name); returns only
 * when there is nothing to do or exec failed (the run then goes on with the slow kernels).  The
 * generic kernels are also wrong, not only slow: 0.3.21's Prescott dsymv reads past small
 * matrices (a SEGV under AddressSanitizer in pdsyevd). */
void sb_blas_reexec(char **argv);

/* The symbatch version and the git commit it was built from. */
const char *sb_version(void);
const char *sb_git_commit(void);

#endif
