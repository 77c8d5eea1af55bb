/* Throughput of the grpo policy network (src/grpo/mlp.c): policy steps per second on one core,
 * a step being what one state costs an update with mu = 1: a forward pass during the rollout and
 * a forward plus backward pass during training.  Not a test (timings vary with the machine).
 *
 *   cmake --build build/rel --target grpo_mlp_bench
 *   OPENBLAS_NUM_THREADS=1 build/rel/tests/grpo_mlp_bench [seconds per batch size, default 1]
 *
 * Shape: the reference configuration of grpo.md (S_8, one-hot 64 -> 128 -> 128 -> 3). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include "symbatch/core.h"
#include "symbatch/grpo.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define POSITIONS 8
#define VALUES    8

/* CPU seconds of this process: on a shared machine the wall clock counts other jobs' time too,
 * while steps per CPU second is the per-core rate asked for (OPENBLAS_NUM_THREADS=1). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double run(sb_mlp_batch *b, const double *params, double *grad, const int32_t *idx,
                  const double *dlogits, int rows, double seconds)
{
    long steps = 0;
    double t0 = cpu_now(), t = t0;
    while (t - t0 < seconds) {
        for (int k = 0; k < 100; k++) {
            sb_mlp_forward(b, params, idx, POSITIONS, rows); /* rollout */
            sb_mlp_forward(b, params, idx, POSITIONS, rows); /* training */
            sb_mlp_backward(b, params, dlogits, grad);
            steps += rows;
        }
        t = cpu_now();
    }
    return (double)steps / (t - t0);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    sb_mlp_shape s = {.nlayers = 3, .sizes = {POSITIONS * VALUES, 128, 128, 3}};
    size_t np = sb_mlp_nparams(&s);
    enum { MAXR = 64 };
    double *params = malloc(np * sizeof *params), *grad = calloc(np, sizeof *grad);
    int32_t *idx = malloc(MAXR * POSITIONS * sizeof *idx);
    double *dl = malloc(MAXR * 3 * sizeof *dl);
    sb_mlp_batch *b;
    if (!params || !grad || !idx || !dl || sb_mlp_batch_create(&b, &s, MAXR) != 0)
        return 1;
    sb_mlp_init(&s, params, 1, 0, 0.01);
    for (int r = 0; r < MAXR; r++)
        for (int i = 0; i < POSITIONS; i++) /* a random permutation-like state per row */
            idx[r * POSITIONS + i] = i * VALUES + (int)(sb_rand64(2, r, i) % VALUES);
    for (int i = 0; i < MAXR * 3; i++)
        dl[i] = sb_rand_unit(3, 0, i) - 0.5;
    printf("MLP 64 -> 128 -> 128 -> 3, %zu parameters; steps/s = states per second through "
           "forward + forward + backward per CPU second\n",
           np);
    const int sizes[] = {1, 8, 16, 32, 64};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        printf("rows %2d: %.3g steps/s\n", sizes[k],
               run(b, params, grad, idx, dl, sizes[k], seconds));
    sb_mlp_batch_free(b);
    free(params);
    free(grad);
    free(idx);
    free(dl);
    return 0;
}
