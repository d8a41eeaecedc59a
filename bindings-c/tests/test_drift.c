/* Drift detection from C: scipy-equal KS (expected_drift.h, from the shared fixtures), river-equal
 * ADWIN and Page-Hinkley change points, the KL detector (calibrated and fixed), errors, files. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "expected_drift.h"

static const double T0 = 1764547200.0;

/* Seeded Beta(8, 2): the 8th smallest of 9 uniforms from splitmix64. */
static uint64_t g_state;
static double uniform(void) {
    uint64_t z = (g_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static void beta82(uint64_t seed, double *out, size_t n, double shift) {
    g_state = seed;
    for (size_t i = 0; i < n; i++) {
        double u[9];
        for (int k = 0; k < 9; k++) u[k] = uniform();
        qsort(u, 9, sizeof u[0], cmp);
        double v = u[7] + shift;
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
}

static void test_ks(void) {
    for (size_t i = 0; i < KS_N_CASES; i++) {
        const KsCase *c = &KS_CASES[i];
        double d = -1, p = -1;
        bool exact = false;
        CHECK_OK(fl_ks_2samp(c->a, c->na, c->b, c->nb, &d, &p, &exact));
        CHECK_NEAR(d, c->statistic, 1e-12);
        CHECK_NEAR(p, c->pvalue, 1e-6);
        CHECK(exact == (c->exact != 0));
    }
    double d, p;
    double one = 1.0, nan = NAN;
    CHECK_STATUS(fl_ks_2samp(NULL, 0, &one, 1, &d, &p, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_ks_2samp(&nan, 1, &one, 1, &d, &p, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_ks_2samp(&one, 1, &one, 1, NULL, &p, NULL), FL_STATUS_NULL_POINTER);

    /* Two columns: the second shifted. */
    enum { R = 200, C = 2 };
    static double ref[R * C], cur[R * C];
    double col[R];
    beta82(1, col, R, 0);
    for (int r = 0; r < R; r++) ref[r * C] = col[r];
    beta82(2, col, R, 0);
    for (int r = 0; r < R; r++) ref[r * C + 1] = col[r];
    beta82(3, col, R, 0);
    for (int r = 0; r < R; r++) cur[r * C] = col[r];
    beta82(4, col, R, -0.2);
    for (int r = 0; r < R; r++) cur[r * C + 1] = col[r];
    double stats[C], pvals[C];
    bool drift[C];
    CHECK_OK(fl_ks_columns(ref, R, cur, R, C, 0.05, stats, pvals, drift));
    CHECK(!drift[0] && drift[1]);
    double d0, p0;
    CHECK_OK(fl_ks_2samp(col, R, col, R, &d0, &p0, NULL));
    CHECK(d0 == 0.0 && p0 == 1.0);
    CHECK_STATUS(fl_ks_columns(ref, R, cur, R, C, 1.5, stats, pvals, drift), FL_STATUS_INVALID_INPUT);
}

static void test_streaming(void) {
    FlAdwin *a = NULL;
    CHECK_OK(fl_adwin_new(NULL, &a));
    static size_t hits[STREAM_LEN];
    size_t n_hits = 0;
    CHECK_OK(fl_adwin_update_many(a, STREAM, STREAM_LEN, hits, &n_hits));
    CHECK(n_hits == ADWIN_N_HITS);
    for (size_t i = 0; i < n_hits && i < ADWIN_N_HITS; i++) CHECK(hits[i] == ADWIN_HITS[i]);
    size_t n_det = 0;
    CHECK_OK(fl_adwin_n_detections(a, &n_det));
    CHECK(n_det == ADWIN_N_HITS);
    double w = 0, mean = 0, var = -1;
    CHECK_OK(fl_adwin_width(a, &w));
    CHECK_OK(fl_adwin_estimation(a, &mean));
    CHECK_OK(fl_adwin_variance(a, &var));
    CHECK(w > 0 && var >= 0);

    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_OK(fl_adwin_to_bytes(a, &bytes, &len));
    FlAdwin *b = NULL;
    CHECK_OK(fl_adwin_from_bytes(bytes, len, &b));
    fl_bytes_free(bytes, len);
    bool da = false, db = true;
    CHECK_OK(fl_adwin_update(a, 100.0, &da));
    CHECK_OK(fl_adwin_update(b, 100.0, &db));
    CHECK(da == db);
    CHECK_OK(fl_adwin_drift_detected(b, &db));
    CHECK(da == db);
    CHECK_OK(fl_adwin_reset(b));
    char *json = NULL;
    CHECK_OK(fl_adwin_config(b, &json));
    CHECK_CONTAINS(json, "\"clock\":32");
    fl_string_free(json);
    CHECK_STATUS(fl_adwin_update(a, NAN, &da), FL_STATUS_INVALID_INPUT);
    fl_adwin_free(a);
    fl_adwin_free(b);

    FlPageHinkley *p = NULL;
    CHECK_OK(fl_page_hinkley_new(NULL, &p));
    n_hits = 0;
    CHECK_OK(fl_page_hinkley_update_many(p, STREAM, STREAM_LEN, hits, &n_hits));
    CHECK(n_hits == PH_N_HITS);
    for (size_t i = 0; i < n_hits && i < PH_N_HITS; i++) CHECK(hits[i] == PH_HITS[i]);
    char path[] = "/tmp/faultlens-c-ph-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(fl_page_hinkley_save(p, path));
    FlPageHinkley *q = NULL;
    CHECK_OK(fl_page_hinkley_load(path, &q));
    unlink(path);
    CHECK_OK(fl_page_hinkley_config(q, &json));
    CHECK_CONTAINS(json, "\"mode\":\"both\"");
    fl_string_free(json);
    bool dp = false;
    CHECK_OK(fl_page_hinkley_drift_detected(q, &dp));
    CHECK_OK(fl_page_hinkley_n_detections(q, &n_det));
    CHECK(n_det == PH_N_HITS);
    CHECK_OK(fl_page_hinkley_reset(q));
    FlPageHinkley *bad = NULL;
    CHECK_STATUS(fl_page_hinkley_new("{\"mode\":\"sideways\"}", &bad), FL_STATUS_INVALID_CONFIG);
    CHECK(bad == NULL);
    fl_page_hinkley_free(p);
    fl_page_hinkley_free(q);
    fl_page_hinkley_free(NULL);
    fl_adwin_free(NULL);
}

static void test_kl(void) {
    enum { NB = 20000, NS = 1000 };
    static double base[NB], quiet[NS], shifted[NS];
    beta82(11, base, NB, 0);
    beta82(12, quiet, NS, 0);
    beta82(13, shifted, NS, -0.06); /* 0.5 sd of Beta(8, 2) */
    FlKlDrift *d = NULL;
    CHECK_OK(fl_kl_drift_from_baseline(base, NB, NULL, &d));
    double watch, drift_t, severe;
    CHECK_OK(fl_kl_drift_thresholds(d, &watch, &drift_t, &severe));
    CHECK(watch < drift_t && drift_t < 0.1 && severe == 2 * drift_t);
    static bool flags[NS];
    static double kls[NS];
    CHECK_OK(fl_kl_drift_add_many(d, quiet, NS, &T0, flags, kls));
    int any = 0;
    for (int i = 0; i < NS; i++) any |= flags[i];
    CHECK(!any);
    double t1 = T0 + 60;
    CHECK_OK(fl_kl_drift_add_many(d, shifted, NS, &t1, flags, NULL));
    any = 0;
    for (int i = 0; i < NS; i++) any |= flags[i];
    CHECK(any);
    char *json = NULL;
    CHECK_OK(fl_kl_drift_status(d, &json));
    CHECK_CONTAINS(json, "\"drift\":true");
    CHECK_CONTAINS(json, "\"window_size\":1000");
    fl_string_free(json);
    CHECK_OK(fl_kl_drift_summary(d, 1.0, &json));
    CHECK_CONTAINS(json, "\"drift_count\":1");
    CHECK_CONTAINS(json, "\"timestamp\":1764547260");
    fl_string_free(json);

    /* Persistence: bytes and files carry the window, baseline and events. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_OK(fl_kl_drift_to_bytes(d, &bytes, &len));
    FlKlDrift *e = NULL;
    CHECK_OK(fl_kl_drift_from_bytes(bytes, len, &e));
    fl_bytes_free(bytes, len);
    bool f1 = false, f2 = true;
    double k1 = 0, k2 = 1;
    CHECK_OK(fl_kl_drift_add(d, 0.5, &t1, &f1, &k1));
    CHECK_OK(fl_kl_drift_add(e, 0.5, &t1, &f2, &k2));
    /* A loaded detector recomputes its running sums: the same flag, KL to 1e-12. */
    CHECK(f1 == f2 && (k1 > k2 ? k1 - k2 : k2 - k1) < 1e-12);
    char path[] = "/tmp/faultlens-c-kl-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK_OK(fl_kl_drift_save(e, path));
    FlKlDrift *g = NULL;
    CHECK_OK(fl_kl_drift_load(path, &g));
    unlink(path);
    double *counts = NULL;
    size_t n_counts = 0;
    CHECK_OK(fl_kl_drift_baseline_histogram(g, &counts, &n_counts));
    CHECK(n_counts == 10);
    double total = 0;
    for (size_t i = 0; i < n_counts; i++) total += counts[i];
    CHECK(total == NB);
    uint64_t ucounts[10];
    for (size_t i = 0; i < 10 && i < n_counts; i++) ucounts[i] = (uint64_t)counts[i];
    fl_doubles_free(counts, n_counts);
    FlKlDrift *h = NULL;
    CHECK_OK(fl_kl_drift_from_histogram(ucounts, 10, NULL, &h));
    double w2, d2, s2;
    CHECK_OK(fl_kl_drift_thresholds(h, &w2, &d2, &s2));
    CHECK(d2 == drift_t);
    fl_kl_drift_free(h);
    h = NULL;
    CHECK_OK(fl_kl_drift_reset(g));
    CHECK_OK(fl_kl_drift_status(g, &json));
    CHECK_CONTAINS(json, "\"window_mean\":null");
    CHECK_CONTAINS(json, "\"level\":\"filling\"");
    fl_string_free(json);
    CHECK_OK(fl_kl_drift_config(g, &json));
    CHECK_CONTAINS(json, "\"threshold_mode\":\"calibrated\"");
    fl_string_free(json);
    CHECK_STATUS(fl_kl_drift_from_histogram(ucounts, 3, NULL, &h), FL_STATUS_DIMENSION);
    CHECK(h == NULL);
    fl_kl_drift_free(d);
    fl_kl_drift_free(e);
    fl_kl_drift_free(g);

    /* Fixed mode: the old service's thresholds. */
    FlKlDrift *f = NULL;
    CHECK_OK(fl_kl_drift_from_baseline(base, 5000, "{\"threshold_mode\":\"fixed\",\"window\":100}", &f));
    CHECK_OK(fl_kl_drift_thresholds(f, &watch, &drift_t, &severe));
    CHECK(watch == 0.3 && drift_t == 0.5 && severe == 1.0);
    static double far[200];
    beta82(14, far, 200, -0.5);
    CHECK_OK(fl_kl_drift_add_many(f, far, 200, &T0, NULL, NULL));
    CHECK_OK(fl_kl_drift_status(f, &json));
    CHECK_CONTAINS(json, "\"should_retrain\":true");
    fl_string_free(json);
    fl_kl_drift_free(f);
}

static void test_kl_errors(void) {
    FlKlDrift *d = NULL;
    CHECK_STATUS(fl_kl_drift_new("{\"window\":0}", &d), FL_STATUS_INVALID_CONFIG);
    CHECK(d == NULL);
    CHECK_STATUS(fl_kl_drift_new("{\"windw\":3}", &d), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "windw");
    CHECK_STATUS(fl_kl_drift_from_baseline(NULL, 0, NULL, &d), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "empty");
    static double constant[2000];
    for (int i = 0; i < 2000; i++) constant[i] = 0.5;
    CHECK_STATUS(fl_kl_drift_from_baseline(constant, 2000, NULL, &d), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "constant");
    CHECK_OK(fl_kl_drift_new(NULL, &d));
    bool fitted = true, flag;
    double kl;
    CHECK_OK(fl_kl_drift_is_fitted(d, &fitted));
    CHECK(!fitted);
    CHECK_STATUS(fl_kl_drift_add(d, 0.5, NULL, &flag, &kl), FL_STATUS_NOT_FITTED);
    static double base[2000];
    beta82(21, base, 2000, 0);
    CHECK_OK(fl_kl_drift_set_baseline(d, base, 2000));
    CHECK_STATUS(fl_kl_drift_add(d, NAN, NULL, &flag, &kl), FL_STATUS_INVALID_INPUT);
    double batch[2] = {0.5, INFINITY};
    CHECK_STATUS(fl_kl_drift_add_many(d, batch, 2, NULL, NULL, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "score 1");
    CHECK_STATUS(fl_kl_drift_add(NULL, 0.5, NULL, &flag, &kl), FL_STATUS_NULL_POINTER);
    char *json = NULL;
    CHECK_STATUS(fl_kl_drift_summary(d, 0.0, &json), FL_STATUS_INVALID_INPUT);
    CHECK(json == NULL);
    fl_kl_drift_free(d);
    fl_kl_drift_free(NULL);
}

/* add_batch reports the same episodes as add_many, without per-score arrays; calibration. */
static void test_kl_batch(void) {
    enum { NB = 20000, NS = 3000 };
    static double base[NB], stream[NS];
    beta82(21, base, NB, 0);
    beta82(22, stream, 1500, 0);
    beta82(23, stream + 1500, NS - 1500, -0.1);
    FlKlDrift *a = NULL, *b = NULL;
    CHECK_OK(fl_kl_drift_from_baseline(base, NB, NULL, &a));
    CHECK_OK(fl_kl_drift_from_baseline(base, NB, NULL, &b));
    static bool flags[NS];
    static double kls[NS];
    CHECK_OK(fl_kl_drift_add_many(a, stream, NS, &T0, flags, kls));
    static size_t starts[NS];
    size_t n_starts = 0, n_drift = 0, n_flags = 0, first = NS;
    bool last = false;
    double kl = -1, max_kl = -1, want_max = 0;
    CHECK_OK(fl_kl_drift_add_batch(b, stream, NS, &T0, starts, &n_starts, &n_drift, &last, &kl, &max_kl));
    for (size_t i = 0; i < NS; i++) {
        n_flags += flags[i];
        if (flags[i] && first == NS) first = i;
        if (i >= 999 && kls[i] > want_max) want_max = kls[i];
    }
    CHECK(n_starts >= 1 && starts[0] == first && starts[0] >= 1500);
    CHECK(n_drift == n_flags && last == flags[NS - 1] && kl == kls[NS - 1] && max_kl == want_max);
    /* Optional outputs may be NULL; n_starts may not. */
    CHECK_OK(fl_kl_drift_add_batch(b, stream, 10, NULL, NULL, &n_starts, NULL, NULL, NULL, NULL));
    CHECK_STATUS(fl_kl_drift_add_batch(b, stream, 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                 FL_STATUS_NULL_POINTER);
    char *json = NULL;
    CHECK_OK(fl_kl_drift_calibration(a, &json));
    CHECK_CONTAINS(json, "\"resamples\":1000");
    CHECK_CONTAINS(json, "\"short_window\":250");
    fl_string_free(json);
    CHECK_OK(fl_kl_drift_status(a, &json));
    CHECK_CONTAINS(json, "\"short_thresholds\":{");
    fl_string_free(json);
    FlKlDrift *u = NULL;
    CHECK_OK(fl_kl_drift_new(NULL, &u));
    CHECK_STATUS(fl_kl_drift_calibration(u, &json), FL_STATUS_NOT_FITTED);
    fl_kl_drift_free(u);
    fl_kl_drift_free(a);
    fl_kl_drift_free(b);
}

/* ------------------------------------------- hardening: saves, limits, loads, config sweep */

#ifndef FL_FIXTURES
#error "compile with -DFL_FIXTURES='\"<repo>/tests/fixtures\"'"
#endif

/* Number of changes found by the last update_many (required output). */
static size_t g_hits;

/* CRC-32 (IEEE), as the model file's header holds it. */
static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

/* A model file whose payload has its first `from` replaced by `to`, with the length and checksum
 * recomputed (the CRC is not a signature: a file from elsewhere can hold anything). NULL when
 * `from` is absent. Free with free(). */
static uint8_t *reseal(const uint8_t *b, size_t len, const char *from, const char *to, size_t *out_len) {
    size_t nf = strlen(from), nt = strlen(to), at = 0;
    int found = 0;
    for (size_t i = 24; i + nf <= len; i++) {
        if (memcmp(b + i, from, nf) == 0) {
            at = i;
            found = 1;
            break;
        }
    }
    if (!found) return NULL;
    size_t n = len - nf + nt;
    uint8_t *out = malloc(n);
    if (!out) return NULL;
    memcpy(out, b, at);
    memcpy(out + at, to, nt);
    memcpy(out + at + nt, b + at + nf, len - at - nf);
    uint64_t body = n - 24;
    for (int k = 0; k < 8; k++) out[12 + k] = (uint8_t)(body >> (8 * k));
    uint32_t crc = crc32_of(out + 24, body);
    for (int k = 0; k < 4; k++) out[20 + k] = (uint8_t)(crc >> (8 * k));
    *out_len = n;
    return out;
}

/* Every drift object's bytes load back to the same bytes, fresh, trained and reset. */
static void test_every_state_round_trips(void) {
    enum { N = 3000 };
    static double xs[N], base[5000];
    beta82(7, xs, N, 0);
    beta82(3, base, 5000, 0);
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    FlPageHinkley *p = NULL, *p2 = NULL;
    FlAdwin *a = NULL, *a2 = NULL;
    FlKlDrift *d = NULL, *d2 = NULL;
    CHECK_OK(fl_page_hinkley_new(NULL, &p));
    CHECK_OK(fl_adwin_new(NULL, &a));
    CHECK_OK(fl_kl_drift_from_baseline(base, 5000, "{\"window\":300}", &d));
    for (int step = 0; step < 3; step++) {
        if (step == 1) {
            CHECK_OK(fl_page_hinkley_update_many(p, xs, N, NULL, &g_hits));
            CHECK_OK(fl_adwin_update_many(a, xs, N, NULL, &g_hits));
            CHECK_OK(fl_kl_drift_add_many(d, xs, N, &T0, NULL, NULL));
        } else if (step == 2) {
            CHECK_OK(fl_page_hinkley_reset(p));
            CHECK_OK(fl_adwin_reset(a));
            CHECK_OK(fl_kl_drift_reset(d));
        }
        CHECK_OK(fl_page_hinkley_to_bytes(p, &b1, &l1));
        CHECK_OK(fl_page_hinkley_from_bytes(b1, l1, &p2));
        CHECK_OK(fl_page_hinkley_to_bytes(p2, &b2, &l2));
        CHECK(l1 == l2 && b1 && b2 && memcmp(b1, b2, l1) == 0);
        fl_bytes_free(b1, l1);
        fl_bytes_free(b2, l2);
        fl_page_hinkley_free(p2);
        CHECK_OK(fl_adwin_to_bytes(a, &b1, &l1));
        CHECK_OK(fl_adwin_from_bytes(b1, l1, &a2));
        CHECK_OK(fl_adwin_to_bytes(a2, &b2, &l2));
        CHECK(l1 == l2 && b1 && b2 && memcmp(b1, b2, l1) == 0);
        fl_bytes_free(b1, l1);
        fl_bytes_free(b2, l2);
        fl_adwin_free(a2);
        CHECK_OK(fl_kl_drift_to_bytes(d, &b1, &l1));
        CHECK_OK(fl_kl_drift_from_bytes(b1, l1, &d2));
        CHECK_OK(fl_kl_drift_to_bytes(d2, &b2, &l2));
        CHECK(l1 == l2 && b1 && b2 && memcmp(b1, b2, l1) == 0);
        fl_bytes_free(b1, l1);
        fl_bytes_free(b2, l2);
        fl_kl_drift_free(d2);
    }
    fl_page_hinkley_free(p);
    fl_adwin_free(a);
    fl_kl_drift_free(d);

    /* Kept files: a fresh Page-Hinkley as earlier versions saved it (`null` minimum) loads; a KL
     * file claiming a 2^40 window with a valid checksum is a clean error. */
    CHECK_OK(fl_page_hinkley_load(FL_FIXTURES "/drift/page_hinkley_fresh_null_min.flm", &p));
    fl_page_hinkley_free(p);
    CHECK_STATUS(fl_kl_drift_load(FL_FIXTURES "/drift/kl_window_2e40.flm", &d), FL_STATUS_CORRUPT);
    CHECK_CONTAINS(fl_last_error(), "window");
    CHECK(d == NULL);
}

static void test_limits(void) {
    FlAdwin *a = NULL;
    CHECK_OK(fl_adwin_new(NULL, &a));
    static double huge[1000], edge[1000];
    for (int i = 0; i < 1000; i++) {
        huge[i] = 1.7e308;
        edge[i] = i % 2 ? 1e100 : -1e100;
    }
    CHECK_STATUS(fl_adwin_update_many(a, huge, 1000, NULL, &g_hits), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "within");
    CHECK_OK(fl_adwin_update_many(a, edge, 1000, NULL, &g_hits));
    double mean = NAN, var = NAN;
    CHECK_OK(fl_adwin_estimation(a, &mean));
    CHECK_OK(fl_adwin_variance(a, &var));
    CHECK(isfinite(mean) && isfinite(var));
    fl_adwin_free(a);
    FlPageHinkley *p = NULL;
    CHECK_STATUS(fl_page_hinkley_new("{\"delta\":1e308}", &p), FL_STATUS_INVALID_CONFIG);

    FlKlDrift *d = NULL;
    const char *bad[] = {"{\"window\":1099511627776}", "{\"window\":2305843009213693952}",
                         "{\"calibration_resamples\":2147483648}", "{\"max_events\":1099511627776}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(fl_kl_drift_new(bad[i], &d), FL_STATUS_INVALID_CONFIG);
        CHECK(d == NULL);
    }
    /* Calibration: one binomial per bin, whatever the counts; counts that wrap are an error. */
    uint64_t counts[10];
    for (int i = 0; i < 10; i++) counts[i] = 100000;
    CHECK_OK(fl_kl_drift_from_histogram(counts, 10, NULL, &d));
    fl_kl_drift_free(d);
    d = NULL;
    for (int i = 0; i < 10; i++) counts[i] = UINT64_MAX;
    CHECK_STATUS(fl_kl_drift_from_histogram(counts, 10, NULL, &d), FL_STATUS_INVALID_INPUT);
    uint64_t wrap[10] = {1ULL << 63, 1ULL << 63, 5, 0, 0, 0, 0, 0, 0, 0};
    CHECK_STATUS(fl_kl_drift_from_histogram(wrap, 10, NULL, &d), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "2^53");
    CHECK(d == NULL);
}

static void test_loads_validate(void) {
    FlPageHinkley *p = NULL, *q = NULL;
    CHECK_OK(fl_page_hinkley_new(NULL, &p));
    uint8_t *b = NULL, *e = NULL;
    size_t len = 0, elen = 0;
    CHECK_OK(fl_page_hinkley_to_bytes(p, &b, &len));
    const char *edits[][2] = {{"\"threshold\":50.0", "\"threshold\":-1.0"}, {"\"alpha\":0.9999", "\"alpha\":255.0"}};
    for (int i = 0; i < 2; i++) {
        e = reseal(b, len, edits[i][0], edits[i][1], &elen);
        CHECK(e != NULL);
        if (!e) continue;
        CHECK_STATUS(fl_page_hinkley_from_bytes(e, elen, &q), FL_STATUS_CORRUPT);
        CHECK(q == NULL);
        free(e);
    }
    /* The unedited payload, resealed, still loads: the edit is what is refused. */
    e = reseal(b, len, "\"threshold\":50.0", "\"threshold\":50.0", &elen);
    CHECK(e != NULL);
    if (e) {
        CHECK_OK(fl_page_hinkley_from_bytes(e, elen, &q));
        fl_page_hinkley_free(q);
        free(e);
    }
    fl_bytes_free(b, len);
    fl_page_hinkley_free(p);

    uint64_t counts[10] = {100, 200, 300, 400, 500, 600, 700, 800, 900, 1000};
    FlKlDrift *d = NULL, *d2 = NULL;
    CHECK_OK(fl_kl_drift_from_histogram(counts, 10, "{\"threshold_mode\":\"fixed\"}", &d));
    CHECK_OK(fl_kl_drift_to_bytes(d, &b, &len));
    const char *kl_edits[][2] = {
        {"\"counts\":[100,200,300,400,500,600,700,800,900,1000]", "\"counts\":[0,0,0,0,0,0,0,0,0,0]"},
        {"\"thresholds\":{\"watch\":0.3", "\"thresholds\":{\"watch\":-2.0"},
    };
    for (int i = 0; i < 2; i++) {
        e = reseal(b, len, kl_edits[i][0], kl_edits[i][1], &elen);
        CHECK(e != NULL);
        if (!e) continue;
        CHECK_STATUS(fl_kl_drift_from_bytes(e, elen, &d2), FL_STATUS_CORRUPT);
        CHECK(d2 == NULL);
        free(e);
    }
    fl_bytes_free(b, len);
    fl_kl_drift_free(d);
}

/* Each numeric config field x {0, -1, 2^31, 2^40, 2^63, 1e308, -1e308}: a detector or a clean
 * error (JSON has no NaN or infinity; 1e999 parses as neither and is refused). */
static void test_config_sweep(void) {
    const char *values[] = {"0", "-1", "2147483648", "1099511627776", "9223372036854775808", "1e308", "-1e308", "1e999"};
    const char *kl[] = {"window", "bins", "epsilon", "false_alarm_rate", "watch_rate", "severe_factor",
                        "calibration_resamples", "seed", "retrain_drifts", "retrain_days", "max_events",
                        "history_days", "short_window"};
    const char *ph[] = {"min_instances", "delta", "threshold", "alpha"};
    const char *ad[] = {"delta", "clock", "max_buckets", "min_window_length", "grace_period"};
    static double xs[500];
    beta82(1, xs, 500, 0);
    char cfg[128];
    int cases = 0;
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        for (size_t f = 0; f < sizeof kl / sizeof kl[0]; f++, cases++) {
            snprintf(cfg, sizeof cfg, "{\"%s\":%s}", kl[f], values[v]);
            FlKlDrift *d = NULL;
            FlStatus st = fl_kl_drift_new(cfg, &d);
            CHECK(st == FL_STATUS_OK || st == FL_STATUS_INVALID_CONFIG);
            fl_kl_drift_free(d);
        }
        for (size_t f = 0; f < sizeof ph / sizeof ph[0]; f++, cases++) {
            snprintf(cfg, sizeof cfg, "{\"%s\":%s}", ph[f], values[v]);
            FlPageHinkley *p = NULL;
            FlStatus st = fl_page_hinkley_new(cfg, &p);
            CHECK(st == FL_STATUS_OK || st == FL_STATUS_INVALID_CONFIG);
            if (p) CHECK_OK(fl_page_hinkley_update_many(p, xs, 500, NULL, &g_hits));
            fl_page_hinkley_free(p);
        }
        for (size_t f = 0; f < sizeof ad / sizeof ad[0]; f++, cases++) {
            snprintf(cfg, sizeof cfg, "{\"%s\":%s}", ad[f], values[v]);
            FlAdwin *a = NULL;
            FlStatus st = fl_adwin_new(cfg, &a);
            CHECK(st == FL_STATUS_OK || st == FL_STATUS_INVALID_CONFIG);
            if (a) CHECK_OK(fl_adwin_update_many(a, xs, 500, NULL, &g_hits));
            fl_adwin_free(a);
        }
    }
    CHECK(cases == 8 * 22);
}

int main(void) {
    test_ks();
    test_streaming();
    test_kl();
    test_kl_errors();
    test_kl_batch();
    test_every_state_round_trips();
    test_limits();
    test_loads_validate();
    test_config_sweep();
    return check_finish("test_drift");
}
