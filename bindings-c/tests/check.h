/* A tiny test harness shared by the C tests: counts checks, prints failures with fl_last_error(),
 * and ends with the "N passed, N failed" line the CI log reader counts. */
#pragma once
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultlens.h"

static int g_passed, g_failed;

static inline void check_record(int ok, const char *file, int line, const char *what) {
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        fprintf(stderr, "FAIL %s:%d: %s (fl_last_error: \"%s\")\n", file, line, what, fl_last_error());
    }
}

/* A condition. */
#define CHECK(cond) check_record((cond) ? 1 : 0, __FILE__, __LINE__, #cond)
/* A call that must return FL_STATUS_OK. */
#define CHECK_OK(call) check_record((call) == FL_STATUS_OK, __FILE__, __LINE__, #call " == FL_STATUS_OK")
/* A call that must fail with `status` and leave a non-empty message. */
#define CHECK_STATUS(call, status)                                                                 \
    do {                                                                                           \
        FlStatus st_ = (call);                                                                     \
        check_record(st_ == (status), __FILE__, __LINE__, #call " == " #status);                   \
        if (st_ != (status)) fprintf(stderr, "     got status %d\n", (int)st_);                    \
        check_record(fl_last_error()[0] != '\0', __FILE__, __LINE__, "fl_last_error() is set");    \
    } while (0)
/* Two C strings are equal (NULL-safe). */
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        int ok_ = a_ && b_ && strcmp(a_, b_) == 0;                                                 \
        check_record(ok_, __FILE__, __LINE__, #a " equals " #b);                                   \
        if (!ok_) fprintf(stderr, "     \"%s\" != \"%s\"\n", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)
/* `hay` contains `needle` (NULL-safe). */
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        int ok_ = h_ && strstr(h_, (needle)) != NULL;                                              \
        check_record(ok_, __FILE__, __LINE__, #hay " contains " #needle);                          \
        if (!ok_) fprintf(stderr, "     \"%s\" lacks \"%s\"\n", h_ ? h_ : "(null)", (needle));      \
    } while (0)
#define CHECK_NEAR(a, b, tol) check_record(fabs((double)(a) - (double)(b)) <= (tol), __FILE__, __LINE__, #a " ~= " #b)

/* Prints the summary line; returns the process exit code. */
static inline int check_finish(const char *suite) {
    printf("%s (faultlens %s)\n", suite, fl_version());
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}

/* 1 when the list holds exactly `n` strings equal to `want`. */
static inline int strings_equal(const FlStrings *list, const char *const *want, size_t n) {
    if (fl_strings_len(list) != n) return 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = fl_strings_get(list, i);
        if (!s || strcmp(s, want[i]) != 0) {
            fprintf(stderr, "     item %zu: \"%s\" != \"%s\"\n", i, s ? s : "(null)", want[i]);
            return 0;
        }
    }
    return 1;
}

/* The number after the first `"key":` in a JSON text, or NAN when the key is absent or not a
 * number (enough for the flat fields the tests read; never for nested objects). */
static inline double json_number(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = json ? strstr(json, pattern) : NULL;
    if (!at) return NAN;
    char *end = NULL;
    double v = strtod(at + strlen(pattern), &end);
    return end == at + strlen(pattern) ? NAN : v;
}
