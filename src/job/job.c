/* Job files: the top-level schema, parsing with every problem reported, the echo, and the
 * collective load.  The walker itself is in schema.c; each kind's section is its own table. */
#include "job/schema.h"
#include "job/yaml.h"
#include "symbatch/core.h"
#include "symbatch/job.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Job files are a few kilobytes.  A bigger one is a wrong path (a dataset) or hostile, and is
 * refused before it is read or parsed: the message names this limit. */
#define SB_JOB_FILE_MAX      ((size_t)1 << 20)
#define SB_JOB_FILE_MAX_TEXT "1 MiB, SB_JOB_FILE_MAX"

/* `kind` is resolved before the walk (a section can come before it in the file), so the row only
 * records the location and drives the echo. */
static int kind_parsed_earlier(sb_job *job, const struct sb_ynode *node, void *target)
{
    (void)job;
    (void)node;
    (void)target;
    return 0;
}

static void kind_print(FILE *out, const void *target)
{
    const sb_job_kind *const *kind = target;
    fputs(*kind ? (*kind)->name : "null", out);
}

static const sb_field checkpoint_fields[] = {
    {.key = "every_seconds",
     .type = SB_F_FLOAT,
     .offset = offsetof(sb_job, checkpoint_every),
     .set_offset = SIZE_MAX,
     .min = 0,
     .max = INFINITY,
     .help = "seconds between checkpoints; 0: only on signals"},
    {.key = NULL},
};

static const sb_field top_fields[] = {
    {.key = "kind",
     .type = SB_F_CUSTOM,
     .offset = offsetof(sb_job, kind),
     .set_offset = SIZE_MAX,
     .required = true,
     .custom = kind_parsed_earlier,
     .print = kind_print,
     .help = "job kind"},
    {.key = "output",
     .type = SB_F_STRING,
     .offset = offsetof(sb_job, output),
     .set_offset = SIZE_MAX,
     .required = true,
     .help = "result file (HDF5)"},
    {.key = "checkpoint",
     .type = SB_F_MAP,
     .set_offset = SIZE_MAX,
     .nullable = true,
     .sub = checkpoint_fields},
    {.key = "memory_per_rank",
     .type = SB_F_BYTES,
     .offset = offsetof(sb_job, memory_per_rank),
     .set_offset = offsetof(sb_job, memory_per_rank_set),
     .nullable = true,
     .min = 1,
     .max = INFINITY,
     .help = "default: node memory / ranks on the node"},
    {.key = "seed",
     .type = SB_F_INT,
     .offset = offsetof(sb_job, seed),
     .set_offset = SIZE_MAX,
     .min = 0,
     .max = INFINITY,
     .help = "random seed"},
    {.key = NULL},
};

/* ---- parsing ----------------------------------------------------------------------------- */

static const sb_job_kind *kind_by_section(const char *section)
{
    for (const sb_job_kind *const *k = sb_job_kinds(); *k; k++)
        if (!strcmp((*k)->section, section))
            return *k;
    return NULL;
}

static void kind_names(char *buf, size_t size, const char **names, int max)
{
    int n = 0;
    buf[0] = '\0';
    for (const sb_job_kind *const *k = sb_job_kinds(); *k; k++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", used ? ", " : "", (*k)->name);
        if (n < max - 1)
            names[n++] = (*k)->name;
    }
    names[n] = NULL;
}

/* Finds `kind:` and sets job->kind and a default spec; a missing kind is reported by the walk. */
static int resolve_kind(sb_job *job, const sb_ynode *root)
{
    long i = sb_ymap_find(root, "kind");
    if (i < 0)
        return 0;
    sb_ynode v = sb_ymap_value(root, (size_t)i);
    char list[256];
    const char *names[32];
    kind_names(list, sizeof list, names, 32);
    if (sb_ynode_kind(&v) != SB_Y_SCALAR || sb_ynode_is_null(&v))
        return sb_job_error_at(job, &v, "kind", "must be a job kind: one of %s (got %s)", list,
                               sb_ynode_describe(&v));
    if (sb_ynode_length(&v) != strlen(sb_ynode_text(&v)))
        return 0; /* "growth\0x" is no kind: the walk reports the NUL */
    const sb_job_kind *kind = sb_job_kind_find(sb_ynode_text(&v));
    if (!kind) {
        const char *hint = sb_job_suggest(sb_ynode_text(&v), names);
        return sb_job_error_at(job, &v, "kind", "unknown kind '%s'%s%s%s; valid kinds: %s",
                               sb_ynode_text(&v), hint ? " (did you mean '" : "", hint ? hint : "",
                               hint ? "'?)" : "", list);
    }
    job->spec = calloc(1, kind->spec_size ? kind->spec_size : 1);
    if (!job->spec)
        return SB_ENOMEM;
    job->kind = kind;
    if (kind->spec_init)
        kind->spec_init(job->spec);
    return 0;
}

/* A top-level key that is some kind's section. */
static void parse_section(sb_job *job, const char *name, const sb_ynode *key, const sb_ynode *value)
{
    if (!job->kind)
        return; /* kind missing or unknown (reported): nothing to check the section against */
    if (strcmp(name, job->kind->section) != 0) {
        sb_job_error_at(job, key, name, "this section is for jobs of kind '%s', but kind is '%s'",
                        kind_by_section(name)->name, job->kind->name);
        return;
    }
    sb_job_note(job, name, key);
    if (sb_ynode_kind(value) != SB_Y_MAP) {
        sb_job_error_at(job, value, name, "must be a mapping of keys (got %s)",
                        sb_ynode_describe(value));
        return;
    }
    sb_job_walk(job, job->kind->schema, job->spec, value, name);
}

static int parse_root(sb_job *job, const sb_ynode *root)
{
    if (!root->node)
        return sb_job_error(job, NULL,
                            "the job file is empty (it needs at least kind: and "
                            "output:)");
    if (sb_ynode_kind(root) != SB_Y_MAP)
        return sb_job_error_at(job, root, NULL,
                               "a job file is a mapping of keys (kind:, output:, ...), not %s",
                               sb_ynode_describe(root));
    sb_job_note(job, "", root);
    int rc = resolve_kind(job, root);
    if (rc == SB_ENOMEM)
        return rc;
    const char *sections[32];
    int n = 0;
    for (const sb_job_kind *const *k = sb_job_kinds(); *k && n < 31; k++)
        sections[n++] = (*k)->section;
    sections[n] = NULL;
    if (sb_job_walk_ext(job, top_fields, job, root, "", sections, parse_section) == SB_ENOMEM)
        return SB_ENOMEM;
    if (job->kind && sb_ymap_find(root, job->kind->section) < 0)
        sb_job_error(job, job->kind->section,
                     "required section is missing (the settings of a "
                     "%s job)",
                     job->kind->name);
    if (job->output && !*job->output)
        sb_job_error(job, "output", "must not be empty");
    /* The kind's cross-field checks run even after schema problems, so that one pass reports
     * everything; validate functions skip what failed to parse. */
    if (job->kind && job->kind->validate)
        rc = job->kind->validate(job);
    return rc == SB_ENOMEM ? rc : 0;
}

static int copy_input(sb_job *job, const char *path, const char *text, size_t len)
{
    job->path = strdup(path ? path : "job");
    job->text = malloc(len + 1);
    if (!job->path || !job->text)
        return SB_ENOMEM;
    memcpy(job->text, text, len);
    job->text[len] = '\0';
    job->text_len = len;
    job->text_hash = sb_fnv1a64(text, len, SB_FNV1A64_INIT);
    job->checkpoint_every = 600;
    job->seed = 0;
    return 0;
}

static int parse_text(sb_job *job)
{
    int before = job->diag->count;
    sb_ydoc doc;
    int rc = sb_yaml_load(&doc, job->path, job->text, job->text_len, job->diag);
    if (rc == 0) {
        sb_ynode root = sb_yaml_root(&doc);
        rc = parse_root(job, &root);
    }
    sb_yaml_free(&doc);
    if (rc == SB_ENOMEM)
        return rc;
    return job->diag->count > before ? SB_EINPUT : rc;
}

/* The refusal of an oversized job file, the same from the reader and from sb_job_parse. */
static int too_big(sb_diag *diag, const char *path, const char *what, unsigned long long size)
{
    return sb_diag_fail(diag,
                        "%s: job file is %s%llu bytes, over the limit of %zu bytes (%s); job "
                        "files are a few kilobytes: is this the right file?",
                        path, what, size, SB_JOB_FILE_MAX, SB_JOB_FILE_MAX_TEXT);
}

/* Copies the problems found into the caller's diag: the first SB_JOB_PROBLEMS_SHOWN lines (the
 * rest were only counted) and then one line with the count of the others. */
static void pass_problems(const sb_diag *found, sb_diag *diag)
{
    int lines = 0;
    for (const char *p = sb_diag_text(found); *p; lines++) {
        size_t n = strcspn(p, "\n");
        sb_diag_add(diag, "%.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
    int more = found->count - lines;
    if (more > 0)
        sb_diag_add(diag, "... and %d more problem%s", more, more == 1 ? "" : "s");
}

int sb_job_parse(sb_job *job, const char *path, const char *text, size_t len, sb_diag *diag)
{
    memset(job, 0, sizeof *job);
    if (text && len > SB_JOB_FILE_MAX)
        return too_big(diag, path ? path : "job", "", (unsigned long long)len);
    /* Problems are collected apart, so that the cap counts this file's problems only, and they
     * are counted even when nobody reads them. */
    sb_diag found;
    sb_diag_init(&found);
    job->diag = &found;
    int rc = copy_input(job, path, text ? text : "", text ? len : 0);
    if (rc == 0)
        rc = parse_text(job);
    if (rc == SB_ENOMEM)
        sb_diag_add(job->diag, "%s: out of memory while reading the job file",
                    job->path ? job->path : "job");
    job->diag = NULL;
    if (diag)
        pass_problems(&found, diag);
    sb_diag_free(&found);
    if (rc != 0)
        sb_job_free(job); /* a failed parse leaves nothing behind; sb_job_free stays safe */
    return rc;
}

void sb_job_free(sb_job *job)
{
    if (job->spec && job->kind && job->kind->spec_free)
        job->kind->spec_free(job->spec); /* frees the members; the struct is ours */
    free(job->spec);
    free(job->path);
    free(job->text);
    free(job->output);
    free(job->locs);
    free(job->loc_slots);
    memset(job, 0, sizeof *job);
}

void sb_job_print(const sb_job *job, FILE *out)
{
    sb_job_print_fields(out, top_fields, job, 0);
    if (job->kind && job->spec) {
        fprintf(out, "%s:\n", job->kind->section);
        sb_job_print_fields(out, job->kind->schema, job->spec, 2);
    }
}

/* ---- the collective load ----------------------------------------------------------------- */

/* The size check before reading: a regular file's size is known from fstat, and a file over the
 * limit is refused unread.  *cap is the first buffer size: the file's size + 1 (to see its end),
 * or 4 KiB for what has no size (a pipe). */
static int check_size(FILE *f, const char *path, size_t *cap, sb_diag *diag)
{
    struct stat st;
    *cap = 4096;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    if ((unsigned long long)st.st_size > SB_JOB_FILE_MAX)
        return too_big(diag, path, "", (unsigned long long)st.st_size);
    *cap = (size_t)st.st_size + 1;
    return 0;
}

/* Reads until the end or until one byte past the limit, whichever comes first. */
static int read_text(FILE *f, const char *path, char **text, size_t *len, size_t cap, sb_diag *diag)
{
    for (;;) {
        if (*len == cap || !*text) {
            cap = *text ? 2 * cap : cap;
            cap = cap < SB_JOB_FILE_MAX + 1 ? cap : SB_JOB_FILE_MAX + 1;
            char *t = realloc(*text, cap);
            if (!t) {
                sb_diag_add(diag, "%s: cannot read job file: out of memory", path);
                return SB_ENOMEM;
            }
            *text = t;
        }
        size_t got = fread(*text + *len, 1, cap - *len, f);
        *len += got;
        if (*len > SB_JOB_FILE_MAX) /* a pipe, or a file that grew since fstat */
            return too_big(diag, path, "more than ", SB_JOB_FILE_MAX);
        if (got == 0 && ferror(f))
            return sb_diag_fail(diag, "%s: cannot read job file: %s", path, strerror(errno));
        if (got == 0)
            return 0;
    }
}

static int read_file(const char *path, char **text, size_t *len, sb_diag *diag)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        sb_diag_add(diag, "%s: cannot read job file: %s", path, strerror(errno));
        return SB_EINPUT;
    }
    size_t cap = 0;
    int rc = check_size(f, path, &cap, diag);
    if (rc == 0)
        rc = read_text(f, path, text, len, cap, diag);
    fclose(f);
    if (rc != 0) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* Rank 0: read, parse and validate.  Returns the verdict every rank will share. */
static int load_on_root(sb_job *job, const char *path, char **text, size_t *len, sb_diag *diag)
{
    int rc = read_file(path, text, len, diag);
    if (rc == 0)
        rc = sb_job_parse(job, path, *text, *len, diag);
    return rc;
}

/* Sends rank 0's text to every rank; the others allocate it first, and all agree that they could
 * before the broadcast, so that no rank waits in a broadcast that another rank skipped. */
static int share_text(const sb_ctx *ctx, char **text, size_t *len)
{
    uint64_t len64 = *len;
    if (MPI_Bcast(&len64, 1, MPI_UINT64_T, 0, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    int rc = 0;
    if (ctx->rank != 0) {
        *text = malloc((size_t)len64 + 1);
        *len = (size_t)len64;
        rc = *text ? 0 : SB_ENOMEM;
    }
    int all = rc;
    if (MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (all != 0)
        return all;
    if (len64 > 0 && MPI_Bcast(*text, (int)len64, MPI_CHAR, 0, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    return 0;
}

int sb_job_load(sb_job *job, const char *path, const sb_ctx *ctx, sb_diag *diag)
{
    memset(job, 0, sizeof *job);
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (ctx->rank == 0)
        rc = load_on_root(job, path, &text, &len, diag);
    /* Rank 0's verdict is everybody's: the others have not looked at anything yet. */
    if (MPI_Bcast(&rc, 1, MPI_INT, 0, ctx->comm) != MPI_SUCCESS)
        rc = SB_EMPI;
    if (rc != 0) {
        free(text);
        sb_job_free(job);
        return rc;
    }
    rc = share_text(ctx, &text, &len);
    if (rc == 0 && ctx->rank != 0)
        rc = sb_job_parse(job, path, text, len, NULL); /* silent: rank 0 has reported */
    free(text);
    int verdict = rc;
    if (MPI_Allreduce(&rc, &verdict, 1, MPI_INT, MPI_MIN, ctx->comm) != MPI_SUCCESS)
        verdict = SB_EMPI;
    if (verdict != 0)
        sb_job_free(job);
    return verdict;
}

/* ---- output, budget ---------------------------------------------------------------------- */

/* The run writes files beside the output whose names add SB_OUTPUT_SUFFIX_MAX bytes to its name
 * (<output>.ckpt.h5.partial): they must fit the file system's limits as well, or the first
 * checkpoint would fail hours into a run. */
static int check_name_room(const char *file, const char *output, const char *folder,
                           sb_diag *diag)
{
    const char *slash = strrchr(output, '/');
    const char *base = slash ? slash + 1 : output;
    long name_max = pathconf(folder, _PC_NAME_MAX);
    if (name_max <= 0)
        name_max = 255;
    size_t name = strlen(base), path = strlen(output);
    if (name + SB_OUTPUT_SUFFIX_MAX > (size_t)name_max) {
        sb_diag_add(diag,
                    "%s: output: the file name is %zu bytes; the run also writes "
                    "'<name>.ckpt.h5.partial' beside it, so the name may have at most %ld bytes "
                    "on this file system (its limit is %ld)",
                    file, name, name_max - SB_OUTPUT_SUFFIX_MAX, name_max);
        return SB_EINPUT;
    }
    if (path + SB_OUTPUT_SUFFIX_MAX >= PATH_MAX) {
        sb_diag_add(diag,
                    "%s: output: the path is %zu bytes; with '.ckpt.h5.partial' it would pass "
                    "the system's limit of %d bytes: use a shorter path",
                    file, path, PATH_MAX - 1);
        return SB_EINPUT;
    }
    return 0;
}

/* Whether `output` names the job file itself: the same device and inode when the output
 * exists, else the same path once the folder is resolved (links, "..", "./"). */
static bool is_job_file(const char *file, const char *output)
{
    struct stat js, os;
    if (stat(file, &js) != 0)
        return false;
    if (stat(output, &os) == 0)
        return js.st_dev == os.st_dev && js.st_ino == os.st_ino;
    char job_real[PATH_MAX], folder[PATH_MAX], folder_real[PATH_MAX], out_real[2 * PATH_MAX];
    sb_path_folder(output, folder, sizeof folder);
    if (!realpath(file, job_real) || !realpath(folder, folder_real))
        return false;
    const char *slash = strrchr(output, '/');
    snprintf(out_real, sizeof out_real, "%s/%s", strcmp(folder_real, "/") ? folder_real : "",
             slash ? slash + 1 : output);
    return strcmp(job_real, out_real) == 0;
}

static int check_output_local(const char *file, const char *output, bool force, sb_diag *diag)
{
    if (!output || !*output) {
        sb_diag_add(diag, "%s: output: must not be empty", file);
        return SB_EINPUT;
    }
    /* --force replaces the output: never with the result's bytes over the job that made it. */
    if (is_job_file(file, output)) {
        sb_diag_add(diag,
                    "%s: output '%s' is the job file '%s' itself; name another result file "
                    "(--force does not change this)",
                    file, output, file);
        return SB_EINPUT;
    }
    struct stat st;
    if (stat(output, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            sb_diag_add(diag, "%s: output '%s' is a directory; name a file inside it", file,
                        output);
            return SB_EINPUT;
        }
        if (!force) {
            sb_diag_add(diag, "%s: output '%s' exists; pass --force to overwrite it", file, output);
            return SB_EEXIST;
        }
    }
    char folder[4096];
    sb_path_folder(output, folder, sizeof folder);
    if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sb_diag_add(diag, "%s: output folder '%s' does not exist", file, folder);
        return SB_EINPUT;
    }
    /* root passes access() everywhere; a folder that nobody may write to is refused all the
     * same, so a read-only results folder means the same thing for every user. */
    if (access(folder, W_OK | X_OK) != 0 || (st.st_mode & 0222) == 0) {
        sb_diag_add(diag, "%s: output folder '%s' is not writable", file, folder);
        return SB_EINPUT;
    }
    return check_name_room(file, output, folder, diag);
}

int sb_job_check_output(const sb_job *job, const char *output, bool force, const sb_ctx *ctx,
                        sb_diag *diag)
{
    int rc = 0;
    if (ctx->rank == 0)
        rc = check_output_local(job && job->path ? job->path : "job",
                                output ? output : (job ? job->output : NULL), force, diag);
    /* Only rank 0 looked, so its verdict (not SB_EPEER) is what every rank returns. */
    if (MPI_Bcast(&rc, 1, MPI_INT, 0, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    return rc;
}

uint64_t sb_job_budget(const sb_job *job, const sb_ctx *ctx)
{
    if (job->memory_per_rank_set)
        return job->memory_per_rank;
    uint64_t local = sb_mem_available() / (uint64_t)(ctx->node_size > 0 ? ctx->node_size : 1);
    uint64_t budget = local;
    MPI_Allreduce(&local, &budget, 1, MPI_UINT64_T, MPI_MIN, ctx->comm);
    return budget;
}

/* A kind's note "growth.mode: message" reported at that key's location when the file has it. */
static void report_note(const sb_job *job, const char *note, sb_diag *diag)
{
    char key[96];
    const char *colon = strchr(note, ':');
    size_t klen = colon ? (size_t)(colon - note) : 0;
    const sb_loc *loc = NULL;
    if (klen > 0 && klen < sizeof key) {
        memcpy(key, note, klen);
        key[klen] = '\0';
        loc = sb_job_where(job, key);
    }
    if (loc)
        sb_diag_add(diag, "%s:%d:%d: %s", job->path, loc->line, loc->column, note);
    else
        sb_diag_add(diag, "%s: %s", job->path, note);
}

/* "it would fit on 27 ranks (2 nodes of 24 ranks like this one, 22.1 GB per node)": the
 * per-rank share shrinks with more ranks, the fixed buffers do not; nodes are counted with this
 * node's number of ranks, and each needs its ranks' share at that rank count. */
static void fits_text(const sb_mem_estimate *est, const sb_ctx *ctx, uint64_t budget, char *buf,
                      size_t size)
{
    uint64_t scalable = est->bytes_total - est->bytes_fixed * (uint64_t)ctx->size;
    uint64_t room = budget > est->bytes_fixed ? budget - est->bytes_fixed : 0;
    uint64_t ranks = room ? (scalable + room - 1) / room : 0;
    if (ranks == 0) {
        char fixed[32];
        sb_fmt_bytes(fixed, sizeof fixed, (double)est->bytes_fixed);
        snprintf(buf, size, "no number of ranks fits (buffers alone need %s per rank)", fixed);
        return;
    }
    uint64_t per_node = (uint64_t)(ctx->node_size > 0 ? ctx->node_size : 1);
    uint64_t nodes = (ranks + per_node - 1) / per_node;
    uint64_t on_node = ranks < per_node ? ranks : per_node;
    double per_rank = (double)scalable / (double)ranks + (double)est->bytes_fixed;
    char node_mem[32];
    sb_fmt_bytes(node_mem, sizeof node_mem, per_rank * (double)on_node);
    snprintf(buf, size,
             "it would fit on %llu ranks (%llu node%s of %llu rank%s like this one, %s per node)",
             (unsigned long long)ranks, (unsigned long long)nodes, nodes == 1 ? "" : "s",
             (unsigned long long)on_node, on_node == 1 ? "" : "s", node_mem);
}

/* Rank 0: the refusal of a job over the budget, with what would fit. */
static void report_budget(const sb_job *job, const sb_ctx *ctx, const sb_mem_estimate *est,
                          uint64_t budget, sb_diag *diag)
{
    char need[32], have[32], fits[160];
    sb_fmt_bytes(need, sizeof need, (double)est->bytes_per_rank);
    sb_fmt_bytes(have, sizeof have, (double)budget);
    fits_text(est, ctx, budget, fits, sizeof fits);
    sb_diag_add(diag,
                "%s: memory: %s mode needs %s per rank on %d ranks (%s), but the budget is %s "
                "per rank (%s); %s, or raise memory_per_rank",
                job->path, est->mode, need, ctx->size, est->detail, have,
                job->memory_per_rank_set ? "memory_per_rank"
                                         : "available memory / ranks on the node",
                fits);
}

int sb_job_check_budget(const sb_job *job, const sb_ctx *ctx, sb_mem_estimate *est, sb_diag *diag)
{
    memset(est, 0, sizeof *est);
    uint64_t budget = sb_job_budget(job, ctx);
    if (!job->kind->estimate_memory)
        return 0;
    int rc = job->kind->estimate_memory(job, ctx->size, budget, est);
    if (rc == SB_EINPUT) {
        if (ctx->rank == 0)
            report_note(job, est->note, diag);
        return SB_EINPUT;
    }
    if (rc || !est->enforce || est->bytes_per_rank <= budget)
        return rc;
    if (ctx->rank == 0)
        report_budget(job, ctx, est, budget, diag);
    return SB_EBUDGET;
}
