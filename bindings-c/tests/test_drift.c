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
    CHECK(f1 == f2 && k1 == k2);
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

int main(void) {
    test_ks();
    test_streaming();
    test_kl();
    test_kl_errors();
    test_kl_batch();
    return check_finish("test_drift");
}
