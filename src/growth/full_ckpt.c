/* Full-mode checkpoints (full_impl.h): the 2-bit array as one global byte array indexed by
 * state rank, the distance table, and which code marks the current layer.
 *
 * Byte i of /full/bits holds states 4i..4i+3, state 4i+j in bits 2j and 2j+1 (0 unseen,
 * 3 closed, the code in /full/state[1] current; at a layer boundary no state is "next").  A
 * rank's block is a whole number of 64-bit words (32 states), and words are little-endian, so
 * the block's bytes are a contiguous, 8-byte aligned range of that array: ranks write their
 * ranges, and a run on any number of ranks reads back its own, verifying the segments it
 * touches and rebuilding its per-chunk flags by scanning. */
#include "growth/full_impl.h"

#include "symbatch/ckpt.h"
#include "symbatch/error.h"
#include "symbatch/rank.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { ST_LAYER, ST_CUR, ST_SIZE, ST_DIST, ST_COUNT };

/* This rank's part of the global arrays: its first byte of /full/bits (0 when it has no
 * states, so that an empty contribution is still inside the dataset). */
static uint64_t bits_offset(const full *f)
{
    return f->count ? f->lo / 4 : 0;
}

static uint64_t bits_count(const full *f)
{
    return (f->count + 3) / 4;
}

int sb_full_save(void *engine, struct sb_ckpt *ck)
{
    full *f = engine;
    const uint64_t N = f->space.size;
    const int root = f->ctx->rank == 0;
    uint64_t state[ST_COUNT] = {(uint64_t)f->layer, f->cur, N, f->has_dist ? 1 : 0};
    int err = sb_ckpt_put_str(ck, "fingerprint.rank_scheme", sb_space_name(&f->space));
    if (!err)
        err = sb_ckpt_put_i64(ck, "fingerprint.space_size", (int64_t)N);
    if (!err)
        err = sb_ckpt_put_str(ck, "full.encoding",
                              "/full/bits: byte i holds the states of rank 4i..4i+3, state 4i+j "
                              "in bits 2j..2j+1: 0 unseen, 3 closed, /full/state[1] current; "
                              "/full/state: layer, current code, states, has distances");
    if (!err)
        err =
            sb_ckpt_write(ck, "/full/state", SB_CKPT_U64, ST_COUNT, 0, root ? ST_COUNT : 0, state);
    if (!err)
        err = sb_ckpt_write(ck, "/full/bits", SB_CKPT_U8, (N + 3) / 4, bits_offset(f),
                            bits_count(f), f->bits);
    if (!err && f->has_dist)
        err = sb_ckpt_write(ck, "/full/distances", SB_CKPT_U8, N, f->count ? f->lo : 0, f->count,
                            f->dist);
    return err;
}

static int refuse(const full *f, const struct sb_ckpt *ck, const char *why)
{
    if (f->ctx->rank == 0)
        fprintf(f->ctx->err, "symbatch: checkpoint '%s': %s\n", ck->path, why);
    return SB_ECKPT;
}

/* The checkpoint must rank states the way this run does (same scheme, same size). */
static int check_ranking(const full *f, struct sb_ckpt *ck)
{
    char scheme[64] = "";
    int64_t size = 0;
    int err = sb_ckpt_get_str(ck, "fingerprint.rank_scheme", scheme, sizeof scheme);
    if (!err)
        err = sb_ckpt_get_i64(ck, "fingerprint.space_size", &size);
    if (err)
        return err;
    if (strcmp(scheme, sb_space_name(&f->space)) == 0 && (uint64_t)size == f->space.size)
        return 0;
    char why[256];
    snprintf(why, sizeof why,
             "its state ranking (%s, %" PRId64 " states) differs from this run's (%s, %" PRIu64
             " states)",
             scheme, size, sb_space_name(&f->space), f->space.size);
    return refuse(f, ck, why);
}

static int read_state(full *f, struct sb_ckpt *ck)
{
    uint64_t st[ST_COUNT];
    int err = sb_ckpt_read(ck, "/full/state", SB_CKPT_U64, 0, ST_COUNT, st);
    if (err)
        return err;
    if ((st[ST_CUR] != 1 && st[ST_CUR] != 2) || st[ST_SIZE] != f->space.size ||
        st[ST_LAYER] > 65535)
        return refuse(f, ck, "/full/state is inconsistent (damaged file?)");
    if ((st[ST_DIST] != 0) != f->has_dist)
        return refuse(f, ck,
                      "it has no distance table but this run needs one, or the other way round");
    f->layer = (int)st[ST_LAYER];
    f->cur = (unsigned)st[ST_CUR];
    f->next = 3u - f->cur;
    return 0;
}

/* Rebuilds the "has current states" flags (node chunks may straddle blocks, so the flags are
 * set with atomic stores); a state marked "next" cannot exist at a layer boundary, so finding
 * one means the data is not what a checkpoint holds. */
static int rebuild_flags(full *f)
{
    const uint64_t nwords = (f->count + 31) / 32, w0 = (f->lo - f->node_lo) / 32;
    uint8_t *flags = sb_full_flags_cur(f);
    int bad = 0;
    for (uint64_t wi = 0; wi < nwords; wi++) {
        uint64_t w = f->bits[wi];
        if (fields_equal(w, f->cur))
            __atomic_store_n(&flags[((w0 + wi) * 32) >> CHUNK_SHIFT], 1, __ATOMIC_RELAXED);
        bad |= fields_equal(w, f->next) != 0;
    }
    return bad ? SB_ECKPT : 0;
}

int sb_full_load(void *engine, struct sb_ckpt *ck)
{
    full *f = engine;
    int err = check_ranking(f, ck);
    if (!err)
        err = read_state(f, ck);
    if (err)
        return err;
    /* full_init marked the root: start from an empty array and no flags.  Only this block's
     * words: an empty block's f->bits is where its neighbour's words end, or NULL. */
    if (f->count)
        memset(f->bits, 0, (f->count + 31) / 32 * sizeof(uint64_t));
    err = sb_ctx_agree(f->ctx, sb_full_flags_clear(f));
    if (!err)
        err = sb_ckpt_read(ck, "/full/bits", SB_CKPT_U8, bits_offset(f), bits_count(f), f->bits);
    if (!err && f->has_dist)
        err = sb_ckpt_read(ck, "/full/distances", SB_CKPT_U8, f->count ? f->lo : 0, f->count,
                           f->dist);
    if (err)
        return err;
    f->next_count = 0;
    err = sb_ctx_agree(f->ctx, rebuild_flags(f));
    if (err)
        return refuse(f, ck,
                      "/full/bits holds states of a next layer at a layer boundary "
                      "(damaged file?)");
    return 0;
}
