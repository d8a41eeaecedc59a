/* FlWindow from C: the shared stream of tests/fixtures/window_cases.json (its events and expected
 * incidents are written out below), single pushes, NULL and UTF-8 errors, advance/flush,
 * snapshot, save/load and merge. The semantics themselves are tested in Rust. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep under -std=c11 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define CONFIG "{\"threshold\":2,\"window_ms\":1000,\"allowed_lateness_ms\":200,\"max_samples\":2,\"max_trace_ids\":3}"

static const FlEvent EVENTS[] = {
    {1000, "api", "/pay", "E503", "upstream timeout", "tr-1"},
    {1100, "api", "/pay", "E503", "upstream timeout", "tr-2"},
    {1050, "api", "/pay", "E503", "upstream reset", "tr-3"},
    {1200, "db", "/q", "E1", "lock wait", ""},
    {1300, "api", "/pay", "E503", "upstream timeout", "tr-4"},
    {900, "api", "/pay", "E503", "too late", "tr-5"},
    {1250, "db", "/q", "E1", "lock wait", NULL},
    {1260, "db", "/q", "E1", "lock wait", "tr-6"},
    {2500, "api", "/pay", "E503", "upstream timeout", "tr-7"},
    {2600, "db", "/q", "E1", "deadlock", "tr-8"},
};
#define N_EVENTS (sizeof EVENTS / sizeof EVENTS[0])

/* Checks the two incidents of the fixture, in order, found across results `a` and `b`. */
static void check_fixture_incidents(const FlWindowResult *a, const FlWindowResult *b) {
    CHECK(fl_window_result_incidents(a) + fl_window_result_incidents(b) == 2);
    FlIncident inc[2];
    size_t k = 0;
    for (const FlWindowResult *r = a; r; r = (r == a ? b : NULL))
        for (size_t i = 0; i < fl_window_result_incidents(r) && k < 2; i++) CHECK(fl_window_result_incident(r, i, &inc[k++]));
    if (k != 2) return;
    CHECK_STR(inc[0].id, "780e4d03fbda0a89");
    CHECK_STR(inc[0].service, "api");
    CHECK_STR(inc[0].route, "/pay");
    CHECK_STR(inc[0].error_code, "E503");
    CHECK(inc[0].start_ms == 1000 && inc[0].end_ms == 1100 && inc[0].count == 3 && inc[0].threshold == 2);
    CHECK_STR(inc[0].severity, "low");
    CHECK_STR(inc[0].trigger, "threshold");
    CHECK(inc[0].baseline != inc[0].baseline); /* NaN: no rate trigger */
    CHECK(inc[0].n_samples == 2);
    if (inc[0].n_samples == 2) {
        CHECK_STR(inc[0].samples[0], "upstream timeout");
        CHECK_STR(inc[0].samples[1], "upstream reset");
    }
    CHECK(inc[0].n_trace_ids == 3);
    if (inc[0].n_trace_ids == 3) {
        CHECK_STR(inc[0].trace_ids[0], "tr-2");
        CHECK_STR(inc[0].trace_ids[2], "tr-1");
    }
    CHECK_STR(inc[1].id, "3c9b134939a9d077");
    CHECK_STR(inc[1].service, "db");
    CHECK(inc[1].start_ms == 1200 && inc[1].end_ms == 1260 && inc[1].count == 3);
    CHECK(inc[1].n_samples == 1 && inc[1].n_trace_ids == 1);
}

static void test_fixture_batch(void) {
    FlWindow *w = NULL;
    CHECK_OK(fl_window_new(CONFIG, &w));
    FlWindowResult *r = NULL, *f = NULL;
    CHECK_OK(fl_window_push_batch(w, EVENTS, N_EVENTS, &r));
    size_t n = 99;
    const size_t *late = fl_window_result_late(r, &n);
    CHECK(n == 1 && late && late[0] == 5);
    fl_window_result_rejected(r, &n);
    CHECK(n == 0);
    CHECK_OK(fl_window_flush(w, &f));
    check_fixture_incidents(r, f);
    char *json = NULL;
    CHECK_OK(fl_window_result_json(r, &json));
    CHECK_CONTAINS(json, "\"late\":[5]");
    CHECK_CONTAINS(json, "\"trace_ids\":[\"tr-2\",\"tr-3\",\"tr-1\"]");
    fl_string_free(json);
    CHECK_OK(fl_window_stats(w, &json));
    CHECK_CONTAINS(json, "\"events\":9");
    CHECK_CONTAINS(json, "\"late_events\":1");
    CHECK_CONTAINS(json, "\"watermark_ms\":2601");
    fl_string_free(json);
    bool has = false;
    int64_t wm = 0;
    CHECK_OK(fl_window_watermark(w, &has, &wm));
    CHECK(has && wm == 2601);
    fl_window_result_free(r);
    fl_window_result_free(f);
    fl_window_free(w);
}

static void test_single_pushes(void) {
    FlWindow *w = NULL;
    CHECK_OK(fl_window_new(CONFIG, &w));
    FlWindowResult *all = NULL, *f = NULL;
    size_t incidents = 0, late_count = 0;
    for (size_t i = 0; i < N_EVENTS; i++) {
        FlWindowResult *r = NULL;
        CHECK_OK(fl_window_push(w, &EVENTS[i], &r));
        size_t n = 0;
        fl_window_result_late(r, &n);
        late_count += n;
        if (fl_window_result_incidents(r) == 2) all = r; /* both become final with event 8 */
        else {
            incidents += fl_window_result_incidents(r);
            fl_window_result_free(r);
        }
    }
    CHECK(late_count == 1 && incidents == 0 && all != NULL);
    CHECK_OK(fl_window_flush(w, &f));
    if (all) check_fixture_incidents(all, f);
    fl_window_result_free(all);
    fl_window_result_free(f);
    fl_window_free(w);
}

static void test_errors(void) {
    FlWindow *w = NULL;
    CHECK_STATUS(fl_window_new("{\"threshold\":3}", &w), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "allowed_lateness_ms");
    CHECK(w == NULL);
    CHECK_STATUS(fl_window_new("{\"allowed_lateness_ms\":0,\"thresold\":3}", &w), FL_STATUS_INVALID_CONFIG);
    CHECK_STATUS(fl_window_new(CONFIG, NULL), FL_STATUS_NULL_POINTER);
    CHECK_OK(fl_window_new(CONFIG, &w));
    FlWindowResult *r = NULL;
    FlEvent bad[2] = {EVENTS[0], {1, "api", NULL, "E1", NULL, NULL}};
    CHECK_STATUS(fl_window_push_batch(w, bad, 2, &r), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "event 1 has no `route`");
    CHECK(r == NULL);
    FlEvent utf8 = {1, "api", "/\xff", "E1", NULL, NULL};
    CHECK_STATUS(fl_window_push(w, &utf8, &r), FL_STATUS_INVALID_UTF8);
    CHECK_CONTAINS(fl_last_error(), "events[0].route");
    CHECK_STATUS(fl_window_push_batch(w, NULL, 3, &r), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_window_push(NULL, &EVENTS[0], &r), FL_STATUS_NULL_POINTER);
    char *json = NULL;
    CHECK_OK(fl_window_stats(w, &json));
    CHECK_CONTAINS(json, "\"events\":0"); /* nothing was pushed by the failed calls */
    fl_string_free(json);
    FlWindowResult *m = NULL;
    CHECK_STATUS(fl_window_merge(w, w, &m), FL_STATUS_INVALID_INPUT);
    /* Accessors tolerate NULL. */
    size_t n = 7;
    CHECK(fl_window_result_incidents(NULL) == 0);
    CHECK(fl_window_result_late(NULL, &n) == NULL && n == 0);
    FlIncident inc;
    CHECK(!fl_window_result_incident(NULL, 0, &inc));
    fl_window_result_free(NULL);
    fl_window_free(NULL);
    fl_window_free(w);
}

static void test_snapshot_save_merge(void) {
    const char *cfg = "{\"threshold\":2,\"window_ms\":100,\"allowed_lateness_ms\":10,\"key_fields\":[\"service\"]}";
    FlWindow *a = NULL, *b = NULL;
    CHECK_OK(fl_window_new(cfg, &a));
    CHECK_OK(fl_window_new(cfg, &b));
    FlEvent ea[2] = {{1, "a", "", "", "m", ""}, {2, "a", "", "", "m", ""}};
    FlEvent eb[3] = {{1, "b", NULL, NULL, NULL, NULL}, {2, "b", NULL, NULL, NULL, NULL}, {3, "b", NULL, NULL, NULL, NULL}};
    FlWindowResult *r = NULL;
    CHECK_OK(fl_window_push_batch(a, ea, 2, &r));
    fl_window_result_free(r);
    CHECK_OK(fl_window_push_batch(b, eb, 3, &r));
    fl_window_result_free(r);

    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_OK(fl_window_to_bytes(a, &bytes, &len));
    FlWindow *a2 = NULL;
    CHECK_OK(fl_window_from_bytes(bytes, len, &a2));
    FlWindow *broken = (FlWindow *)1;
    CHECK_STATUS(fl_window_from_bytes(bytes, len / 2, &broken), FL_STATUS_CORRUPT);
    CHECK(broken == NULL); /* a failed call leaves nothing to free */
    fl_bytes_free(bytes, len);
    char *c1 = NULL, *c2 = NULL;
    CHECK_OK(fl_window_config(a, &c1));
    CHECK_OK(fl_window_config(a2, &c2));
    CHECK_STR(c1, c2);
    fl_string_free(c1);
    fl_string_free(c2);

    char path[] = "fl_window_test.flm";
    CHECK_OK(fl_window_save(b, path));
    FlWindow *moved = NULL;
    CHECK_OK(fl_window_load(path, &moved));
    unlink(path);
    CHECK_OK(fl_window_merge(a2, moved, &r));
    fl_window_result_free(r);
    FlEvent e3 = {3, "a", NULL, NULL, NULL, NULL};
    CHECK_OK(fl_window_push(a2, &e3, &r));
    fl_window_result_free(r);
    CHECK_OK(fl_window_flush(a2, &r));
    CHECK(fl_window_result_incidents(r) == 2);
    FlIncident i0, i1;
    if (fl_window_result_incident(r, 0, &i0) && fl_window_result_incident(r, 1, &i1)) {
        CHECK_STR(i0.service, "a");
        CHECK_STR(i1.service, "b");
        CHECK(i0.route == NULL && i0.error_code == NULL); /* not key fields */
        CHECK(i0.end_ms == 3 && i1.end_ms == 3);
    }
    fl_window_result_free(r);
    fl_window_free(moved);
    fl_window_free(a2);
    fl_window_free(b);
    fl_window_free(a);
}

/* Incidents of different codes whose samples say the same thing share a group number. */
static void test_group_incidents(void) {
    const char *samples[] = {
        "connection refused to db-1:5432 after 3 retries", "connection refused to db-2:5432 after 5 retries",
        "disk quota exceeded on /var/lib/data",
        "connection refused to db-7:5432 after 9 retries",
        "disk quota exceeded on /mnt/store",
    };
    size_t counts[] = {2, 1, 1, 1, 0};
    size_t groups[5] = {99, 99, 99, 99, 99};
    CHECK_OK(fl_group_incidents(samples, counts, 5, NULL, groups));
    CHECK(groups[0] == 0 && groups[1] == 1 && groups[2] == 0 && groups[3] == 1 && groups[4] == 2);
    /* Masking leaves the same words in each pair, so even a floor of 1.0 keeps them together. */
    CHECK_OK(fl_group_incidents(samples, counts, 5, "{\"min_similarity\":1.0}", groups));
    CHECK(groups[0] == 0 && groups[1] == 1 && groups[2] == 0 && groups[3] == 1 && groups[4] == 2);
    CHECK_OK(fl_group_incidents(samples + 2, counts + 2, 2, "{\"min_similarity\":1.0}", groups));
    CHECK(groups[0] == 0 && groups[1] == 1);
    CHECK_STATUS(fl_group_incidents(samples, counts, 5, "{\"min_similarity\":0}", groups), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "min_similarity");
    CHECK_STATUS(fl_group_incidents(samples, counts, 5, NULL, NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_group_incidents(NULL, counts, 5, NULL, groups), FL_STATUS_NULL_POINTER);
    CHECK_OK(fl_group_incidents(NULL, NULL, 0, NULL, NULL));
}

/* a.merge(b) and b.merge(a) from two threads at once: each merge copies the other side under its
 * lock and releases it before locking its own, so they cannot deadlock. FAULTLENS_MERGE_SECS sets
 * the duration (default 2; docs/reliability.md gives the 60 s command). */
typedef struct {
    FlWindow *into;
    const FlWindow *from;
    atomic_long merges;
    atomic_int failed;
    atomic_int done;
} Merger;

static atomic_int g_stop;

static void *merge_loop(void *arg) {
    Merger *m = arg;
    while (!atomic_load(&g_stop)) {
        FlWindowResult *r = NULL;
        if (fl_window_merge(m->into, m->from, &r) != FL_STATUS_OK) {
            atomic_store(&m->failed, 1);
            return NULL;
        }
        fl_window_result_free(r);
        atomic_fetch_add(&m->merges, 1);
    }
    atomic_store(&m->done, 1);
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_opposite_merges_in_threads(void) {
    const char *cfg = "{\"threshold\":3,\"window_ms\":1000,\"allowed_lateness_ms\":0}";
    const char *env = getenv("FAULTLENS_MERGE_SECS");
    double secs = env ? atof(env) : 2.0;
    FlWindow *a = NULL, *b = NULL;
    CHECK_OK(fl_window_new(cfg, &a));
    CHECK_OK(fl_window_new(cfg, &b));
    FlEvent ev[20];
    for (int i = 0; i < 20; i++) ev[i] = (FlEvent){i * 10, "a", "/", "E", "m", ""};
    FlWindowResult *r = NULL;
    CHECK_OK(fl_window_push_batch(a, ev, 20, &r));
    fl_window_result_free(r);
    for (int i = 0; i < 20; i++) ev[i].service = "b";
    CHECK_OK(fl_window_push_batch(b, ev, 20, &r));
    fl_window_result_free(r);
    /* Nothing left waiting: waiting events would be copied into each other on every merge. */
    CHECK_OK(fl_window_flush(a, &r));
    fl_window_result_free(r);
    CHECK_OK(fl_window_flush(b, &r));
    fl_window_result_free(r);
    Merger m[2] = {{a, b, 0, 0, 0}, {b, a, 0, 0, 0}};
    pthread_t th[2];
    atomic_store(&g_stop, 0);
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, merge_loop, &m[i]) == 0);
    /* A deadlock stops both threads: no merge finishing for 5 s, or a thread that never returns
     * once told to stop. One thread alone may be starved for a while (valgrind runs one thread
     * at a time and need not be fair), so progress is counted over both. The threads cannot be
     * joined after a deadlock: report and exit instead of hanging. */
    double start = now_s(), last_progress = start;
    long seen = 0;
    while (now_s() - start < secs) {
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        long n = atomic_load(&m[0].merges) + atomic_load(&m[1].merges);
        if (n > seen) {
            last_progress = now_s();
            seen = n;
        } else if (now_s() - last_progress > 5.0) {
            fprintf(stderr, "FAIL: opposite merges deadlocked (%ld merges, none in 5 s)\n", n);
            _exit(1);
        }
    }
    atomic_store(&g_stop, 1);
    double stopped = now_s();
    while (!(atomic_load(&m[0].done) && atomic_load(&m[1].done))) {
        if (now_s() - stopped > 30.0) {
            fprintf(stderr, "FAIL: a merging thread never returned: deadlock\n");
            _exit(1);
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(!atomic_load(&m[0].failed) && !atomic_load(&m[1].failed));
    CHECK(atomic_load(&m[0].merges) + atomic_load(&m[1].merges) > 0);
    printf("opposite merges: %ld + %ld in %.1f s\n", atomic_load(&m[0].merges), atomic_load(&m[1].merges), secs);
    fl_window_free(a);
    fl_window_free(b);
}

/* The fixture's rate_case: two events per 1 s period for four periods, then a burst; the key
 * fires on its own normal (baseline 1.875), far under the fixed threshold. */
static void test_rate_trigger(void) {
    const char *cfg = "{\"threshold\":1000,\"window_ms\":1000,\"allowed_lateness_ms\":0,\"max_samples\":2,"
                      "\"max_trace_ids\":2,\"rate\":{\"factor\":1.5,\"z\":2.0,\"alpha\":0.5,\"min_history\":2,"
                      "\"forget_after\":10,\"min_count\":1}}";
    FlEvent ev[32];
    size_t n = 0;
    for (int64_t p = 0; p < 4; p++) {
        ev[n++] = (FlEvent){p * 1000 + 100, "api", "/pay", "E503", "upstream timeout", ""};
        ev[n++] = (FlEvent){p * 1000 + 150, "db", "/q", "E1", "lock wait", ""};
        ev[n++] = (FlEvent){p * 1000 + 600, "api", "/pay", "E503", "upstream timeout", ""};
        ev[n++] = (FlEvent){p * 1000 + 650, "db", "/q", "E1", "lock wait", ""};
    }
    static const char *TR[] = {"tr-0", "tr-1", "tr-2", "tr-3", "tr-4", "tr-5", "tr-6", "tr-7"};
    for (int k = 0; k < 8; k++)
        ev[n++] = (FlEvent){4000 + k * 100, "api", "/pay", "E503", k % 2 ? "upstream timeout" : "upstream reset", TR[k]};
    FlWindow *w = NULL;
    CHECK_OK(fl_window_new(cfg, &w));
    FlWindowResult *r = NULL, *f = NULL;
    CHECK_OK(fl_window_push_batch(w, ev, n, &r));
    CHECK_OK(fl_window_flush(w, &f));
    CHECK(fl_window_result_incidents(r) + fl_window_result_incidents(f) == 1);
    FlIncident inc;
    const FlWindowResult *has = fl_window_result_incidents(r) ? r : f;
    if (fl_window_result_incident(has, 0, &inc)) {
        CHECK_STR(inc.id, "4537f7b768c938b6");
        CHECK_STR(inc.trigger, "rate");
        CHECK(inc.baseline == 1.875 && inc.count == 5 && inc.end_ms == 4300);
        CHECK_STR(inc.severity, "medium");
    }
    fl_window_result_free(r);
    fl_window_result_free(f);
    fl_window_free(w);
    w = NULL;
    CHECK_STATUS(fl_window_new("{\"allowed_lateness_ms\":0,\"rate\":{\"alpha\":0}}", &w), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "rate.alpha");
    CHECK(w == NULL);
}

int main(void) {
    test_rate_trigger();
    test_opposite_merges_in_threads();
    test_group_incidents();
    test_fixture_batch();
    test_single_pushes();
    test_errors();
    test_snapshot_save_merge();
    return check_finish("test_window");
}
