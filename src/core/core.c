#include "symbatch/core.h"
#include "symbatch/error.h"

#include "sb_version.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sb_utc_iso8601(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reads "Key:   123 kB" from a /proc file; returns bytes or 0. */
static uint64_t proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    size_t klen = strlen(key);
    uint64_t value = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            value = strtoull(line + klen + 1, NULL, 10) * 1024ULL;
            break;
        }
    }
    fclose(f);
    return value;
}

uint64_t sb_mem_rss(void)
{
    return proc_kb("/proc/self/status", "VmRSS");
}

uint64_t sb_mem_peak(void)
{
    return proc_kb("/proc/self/status", "VmHWM");
}

uint64_t sb_mem_available(void)
{
    return proc_kb("/proc/meminfo", "MemAvailable");
}

void sb_fmt_bytes(char *buf, size_t size, double bytes)
{
    static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 5) {
        bytes /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.0f B", bytes);
    else
        snprintf(buf, size, "%.*f %s", bytes < 10 ? 2 : (bytes < 100 ? 1 : 0), bytes, units[u]);
}

int sb_parse_bytes(const char *text, uint64_t *bytes)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v < 0)
        return SB_EINPUT;
    while (isspace((unsigned char)*end))
        end++;
    double mult = 1;
    char unit = (char)toupper((unsigned char)*end);
    if (unit) {
        const char *letters = "KMGTP";
        const char *p = strchr(letters, unit);
        if (!p)
            return SB_EINPUT;
        int power = (int)(p - letters) + 1;
        end++;
        int binary = (*end == 'i' || *end == 'I');
        if (binary)
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return SB_EINPUT;
        mult = pow(binary ? 1024.0 : 1000.0, power);
    }
    double r = v * mult;
    if (r >= 1.8e19)
        return SB_EINPUT;
    *bytes = (uint64_t)r;
    return 0;
}

uint64_t sb_fnv1a64(const void *data, size_t len, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

const char *sb_version(void)
{
    return SB_VERSION_STRING;
}

const char *sb_git_commit(void)
{
    return SB_GIT_COMMIT_STRING;
}

void sb_path_folder(const char *path, char *buf, size_t size)
{
    snprintf(buf, size, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, size, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}
