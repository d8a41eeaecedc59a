/* FlIndex / FlTextIndex / FlHits from C: float rows in, hits out, statuses, files, threads. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"

#define D 8
#define N 400

static float g_x[N * D];

static void make_rows(void) {
    uint64_t s = 12345;
    for (size_t i = 0; i < N; i++) {
        double norm = 0;
        for (size_t j = 0; j < D; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            g_x[i * D + j] = (float)((double)(s >> 40) / (double)(1ULL << 24) - 0.5);
            norm += g_x[i * D + j] * g_x[i * D + j];
        }
        for (size_t j = 0; j < D; j++) g_x[i * D + j] /= (float)sqrt(norm);
    }
}

static void test_add_search_remove(void) {
    FlIndex *idx = NULL;
    CHECK_OK(fl_index_new("{\"dim\": 8, \"exact_below\": 100}", &idx));
    if (!idx) return;
    uint64_t ids[N];
    for (size_t i = 0; i < N; i++) ids[i] = 1000 + i;
    const char *payloads[N];
    for (size_t i = 0; i < N; i++) payloads[i] = (i % 2) ? "{\"team\":\"web\"}" : NULL;
    CHECK_OK(fl_index_add(idx, ids, g_x, N, D, payloads));
    size_t len = 0;
    CHECK_OK(fl_index_len(idx, &len));
    CHECK(len == N);

    FlHits *h = NULL;
    CHECK_OK(fl_index_search(idx, g_x, 3, D, 2, NULL, &h));
    CHECK(fl_hits_rows(h) == 3);
    for (size_t r = 0; r < 3; r++) {
        CHECK(fl_hits_len(h, r) == 2);
        CHECK(fl_hits_id(h, r, 0) == 1000 + r);
        CHECK_NEAR(fl_hits_score(h, r, 0), 1.0, 1e-5);
    }
    CHECK(fl_hits_payload(h, 0, 0) == NULL);
    CHECK_STR(fl_hits_payload(h, 1, 0), "{\"team\":\"web\"}");
    CHECK(fl_hits_text(h, 0, 0) == NULL);
    CHECK(fl_hits_len(h, 99) == 0);
    fl_hits_free(h);
    char *mj = NULL;
    CHECK_OK(fl_index_metrics(idx, &mj));
    CHECK_CONTAINS(mj, "{\"searches\":3,\"added\":");
    CHECK_CONTAINS(mj, "\"removed\":0}");
    fl_string_free(mj);
    CHECK_OK(fl_index_reset_metrics(idx));
    CHECK_OK(fl_index_metrics(idx, &mj));
    CHECK_STR(mj, "{\"searches\":0,\"added\":0,\"removed\":0}");
    fl_string_free(mj);

    h = NULL;
    CHECK_OK(fl_index_search(idx, g_x, 1, D, 10,
                             "{\"filter\": {\"type\": \"payload\", \"field\": \"team\", \"value\": \"web\"}}", &h));
    int all_odd = fl_hits_len(h, 0) == 10;
    for (size_t i = 0; i < fl_hits_len(h, 0); i++) all_odd &= (fl_hits_id(h, 0, i) % 2) == 1;
    CHECK(all_odd);
    fl_hits_free(h);

    h = NULL;
    CHECK_OK(fl_index_range_search(idx, g_x, D, 0.999f, NULL, &h));
    CHECK(fl_hits_rows(h) == 1 && fl_hits_len(h, 0) >= 1 && fl_hits_id(h, 0, 0) == 1000);
    fl_hits_free(h);

    uint64_t gone[2] = {1000, 1001};
    CHECK_OK(fl_index_remove(idx, gone, 2));
    bool has = true;
    CHECK_OK(fl_index_contains(idx, 1000, &has));
    CHECK(!has);
    h = NULL;
    CHECK_OK(fl_index_search(idx, g_x, 1, D, 5, "{\"exact\": true}", &h));
    CHECK(fl_hits_len(h, 0) == 5 && fl_hits_id(h, 0, 0) != 1000);
    fl_hits_free(h);
    CHECK_OK(fl_index_compact(idx));
    size_t nv = 0;
    CHECK_OK(fl_index_n_vectors(idx, &nv));
    CHECK(nv == N - 2);

    bool found = false;
    float *vec = NULL;
    size_t dim = 0;
    char *payload = NULL;
    CHECK_OK(fl_index_get(idx, 1003, &found, &vec, &dim, &payload));
    CHECK(found && dim == D && vec && payload);
    if (vec) CHECK_NEAR(vec[0], g_x[3 * D], 1e-6);
    fl_floats_free(vec, dim);
    fl_string_free(payload);
    CHECK_OK(fl_index_get(idx, 1000, &found, &vec, &dim, &payload));
    CHECK(!found && vec == NULL && payload == NULL);

    uint64_t *all = NULL;
    size_t n_all = 0;
    CHECK_OK(fl_index_ids(idx, &all, &n_all));
    CHECK(n_all == N - 2);
    fl_ids_free(all, n_all);

    char *json = NULL;
    CHECK_OK(fl_index_config(idx, &json));
    CHECK_CONTAINS(json, "\"dim\":8");
    fl_string_free(json);

    /* Bytes and files. */
    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    CHECK_OK(fl_index_to_bytes(idx, &bytes, &n_bytes));
    FlIndex *back = NULL;
    CHECK_OK(fl_index_from_bytes(bytes, n_bytes, &back));
    size_t back_len = 0;
    CHECK_OK(fl_index_len(back, &back_len));
    CHECK(back_len == N - 2);
    fl_index_free(back);
    CHECK_STATUS(fl_index_from_bytes(bytes, n_bytes - 1, &back), FL_STATUS_CORRUPT);
    CHECK(back == NULL);
    fl_bytes_free(bytes, n_bytes);
    char path[] = "/tmp/fl-index-c-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(fl_index_save(idx, path));
    CHECK_OK(fl_index_load(path, &back));
    CHECK_OK(fl_index_len(back, &back_len));
    CHECK(back_len == N - 2);
    fl_index_free(back);
    remove(path);
    fl_index_free(idx);
}

static void test_bad_input(void) {
    FlIndex *idx = NULL;
    CHECK_STATUS(fl_index_new("{\"dim\": 0}", &idx), FL_STATUS_INVALID_CONFIG);
    CHECK_STATUS(fl_index_new("{\"dim\": 3, \"metric\": \"hamming\"}", &idx), FL_STATUS_INVALID_CONFIG);
    CHECK_OK(fl_index_new("{\"dim\": 3}", &idx));
    uint64_t id = 1;
    float ok[3] = {1, 0, 0}, zero[3] = {0, 0, 0}, nan[3] = {NAN, 0, 0};
    CHECK_OK(fl_index_add(idx, &id, ok, 1, 3, NULL));
    CHECK_STATUS(fl_index_add(idx, &id, ok, 1, 2, NULL), FL_STATUS_DIMENSION);
    uint64_t id2 = 2;
    CHECK_STATUS(fl_index_add(idx, &id2, zero, 1, 3, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_index_add(idx, &id2, nan, 1, 3, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_index_add(idx, &id, ok, 1, 3, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_index_add(idx, &id2, NULL, 1, 3, NULL), FL_STATUS_NULL_POINTER);
    FlHits *h = NULL;
    CHECK_STATUS(fl_index_search(idx, ok, 1, 3, 0, NULL, &h), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_index_search(idx, ok, 1, 3, 1, "{\"bogus\": 1}", &h), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_index_search(NULL, ok, 1, 3, 1, NULL, &h), FL_STATUS_NULL_POINTER);
    CHECK(h == NULL);
    uint64_t unknown = 77;
    CHECK_STATUS(fl_index_remove(idx, &unknown, 1), FL_STATUS_INVALID_INPUT);
    /* Still usable; k above the size gives what there is. */
    CHECK_OK(fl_index_search(idx, ok, 1, 3, 100, NULL, &h));
    CHECK(fl_hits_len(h, 0) == 1);
    fl_hits_free(h);
    fl_index_free(idx);
    fl_index_free(NULL);
    fl_hits_free(NULL);
    /* A cap on stored ids: an add past it fails and adds nothing. */
    CHECK_STATUS(fl_index_new("{\"dim\": 3, \"max_items\": 0}", &idx), FL_STATUS_INVALID_CONFIG);
    CHECK_OK(fl_index_new("{\"dim\": 3, \"max_items\": 1}", &idx));
    CHECK_OK(fl_index_add(idx, &id, ok, 1, 3, NULL));
    CHECK_STATUS(fl_index_add(idx, &id2, ok, 1, 3, NULL), FL_STATUS_INVALID_INPUT);
    CHECK(strstr(fl_last_error(), "max_items") != NULL);
    fl_index_free(idx);
}

typedef struct {
    FlIndex *idx;
    int ok;
} Reader;

static void *reader(void *arg) {
    Reader *r = arg;
    r->ok = 1;
    for (int i = 0; i < 100; i++) {
        FlHits *h = NULL;
        if (fl_index_search(r->idx, &g_x[(i % 50) * D], 1, D, 3, NULL, &h) != FL_STATUS_OK) r->ok = 0;
        if (fl_hits_len(h, 0) == 0) r->ok = 0;
        fl_hits_free(h);
    }
    return NULL;
}

static void test_search_while_adding(void) {
    FlIndex *idx = NULL;
    CHECK_OK(fl_index_new("{\"dim\": 8, \"exact_below\": 100, \"ef_construction\": 64}", &idx));
    uint64_t ids[N];
    for (size_t i = 0; i < N; i++) ids[i] = i;
    CHECK_OK(fl_index_add(idx, ids, g_x, 50, D, NULL));
    enum { T = 3 };
    pthread_t th[T];
    Reader rs[T];
    for (int i = 0; i < T; i++) {
        rs[i].idx = idx;
        CHECK(pthread_create(&th[i], NULL, reader, &rs[i]) == 0);
    }
    for (size_t b = 50; b < N; b += 50) CHECK_OK(fl_index_add(idx, ids + b, g_x + b * D, 50, D, NULL));
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        CHECK(rs[i].ok);
    }
    fl_index_free(idx);
}

static void test_text_index(void) {
    FlTextIndex *t = NULL;
    CHECK_OK(fl_text_index_new(NULL, &t));
    if (!t) return;
    const char *texts[2] = {"Connection refused to 10.0.0.7:5432", "Disk quota exceeded for /var/lib/postgres"};
    const char *sol[2] = {"restart db", "clean disk"};
    uint64_t *ids = NULL;
    CHECK_OK(fl_text_index_add(t, texts, 2, sol, &ids));
    CHECK(ids && ids[0] == 0 && ids[1] == 1);
    fl_ids_free(ids, 2);
    FlHits *h = NULL;
    CHECK_OK(fl_text_index_search(t, "connection refused to 10.1.1.1:80", 3, "{\"threshold\": 0.7}", &h));
    CHECK(fl_hits_len(h, 0) == 1);
    CHECK_STR(fl_hits_payload(h, 0, 0), "restart db");
    CHECK_STR(fl_hits_text(h, 0, 0), texts[0]);
    fl_hits_free(h);
    const char *queries[2] = {"disk quota exceeded", "zzzz"};
    CHECK_OK(fl_text_index_search_batch(t, queries, 2, 1, NULL, &h));
    CHECK(fl_hits_rows(h) == 2 && fl_hits_id(h, 0, 0) == 1 && fl_hits_len(h, 1) == 0);
    fl_hits_free(h);
    char *mj = NULL;
    CHECK_OK(fl_text_index_metrics(t, &mj));
    CHECK_STR(mj, "{\"searches\":3,\"added\":2,\"removed\":0}");
    fl_string_free(mj);
    CHECK_OK(fl_text_index_reset_metrics(t));
    float *emb = NULL;
    size_t emb_len = 0;
    CHECK_OK(fl_text_index_embed(t, queries, 1, &emb, &emb_len));
    CHECK(emb_len == 512);
    fl_floats_free(emb, emb_len);
    bool found = false;
    char *text = NULL, *payload = NULL;
    CHECK_OK(fl_text_index_get(t, 1, &found, &text, &payload));
    CHECK(found);
    CHECK_STR(text, texts[1]);
    CHECK_STR(payload, "clean disk");
    fl_string_free(text);
    fl_string_free(payload);
    uint8_t *bytes = NULL;
    size_t n = 0;
    CHECK_OK(fl_text_index_to_bytes(t, &bytes, &n));
    FlTextIndex *back = NULL;
    CHECK_OK(fl_text_index_from_bytes(bytes, n, &back));
    size_t len = 0;
    CHECK_OK(fl_text_index_len(back, &len));
    CHECK(len == 2);
    fl_text_index_free(back);
    fl_bytes_free(bytes, n);
    CHECK_OK(fl_text_index_refit(t));
    uint64_t gone = 0;
    CHECK_OK(fl_text_index_remove(t, &gone, 1));
    CHECK_OK(fl_text_index_compact(t));
    CHECK_OK(fl_text_index_len(t, &len));
    CHECK(len == 1);
    char *json = NULL;
    CHECK_OK(fl_text_index_config(t, &json));
    CHECK_CONTAINS(json, "tfidf");
    fl_string_free(json);
    char path[] = "/tmp/fl-text-index-c-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(fl_text_index_save(t, path));
    CHECK_OK(fl_text_index_load(path, &back));
    fl_text_index_free(back);
    remove(path);
    fl_text_index_free(t);

    FlTextIndex *ext = NULL;
    CHECK_OK(fl_text_index_new("{\"embedding\": {\"type\": \"external\", \"dim\": 2}}", &ext));
    const char *ab[2] = {"a", "b"};
    float v[4] = {1, 0, 0, 1};
    CHECK_OK(fl_text_index_add_embedded(ext, ab, 2, v, 2, NULL, &ids));
    fl_ids_free(ids, 2);
    CHECK_STATUS(fl_text_index_add_embedded(ext, ab, 1, v, 3, NULL, &ids), FL_STATUS_DIMENSION);
    float q[2] = {0.1f, 0.9f};
    CHECK_OK(fl_text_index_search_embedded(ext, q, 1, 2, 1, NULL, &h));
    CHECK_STR(fl_hits_text(h, 0, 0), "b");
    fl_hits_free(h);
    CHECK_STATUS(fl_text_index_add(ext, ab, 1, NULL, &ids), FL_STATUS_INVALID_INPUT);
    fl_text_index_free(ext);
}

/* String keys, payload filters, the tuning report, hybrid text search. */
static void test_keys_filters_hybrid(void) {
    FlIndex *idx = NULL;
    CHECK_OK(fl_index_new("{\"dim\": 8}", &idx));
    if (!idx) return;
    const char *keys[] = {"inc-2041", "\xea\xb2\xb0\xec\xa0\x9c"}; /* "결제" */
    const char *payloads[] = {"{\"svc\":\"pay\",\"ms\":120}", NULL};
    uint64_t ids[] = {7};
    CHECK_OK(fl_index_add(idx, ids, g_x, 1, D, NULL));
    CHECK_OK(fl_index_add_keyed(idx, keys, g_x + D, 2, D, payloads));
    CHECK_STATUS(fl_index_add_keyed(idx, keys, g_x + D, 1, D, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "already");
    FlHits *h = NULL;
    CHECK_OK(fl_index_search(idx, g_x + D, 1, D, 1, NULL, &h));
    CHECK(h && fl_hits_len(h, 0) == 1);
    CHECK_STR(fl_hits_key(h, 0, 0), "inc-2041");
    bool found = false;
    uint64_t id = 0;
    CHECK_OK(fl_index_id_of_key(idx, "inc-2041", &found, &id));
    CHECK(found && fl_hits_id(h, 0, 0) == id);
    fl_hits_free(h);
    CHECK_OK(fl_index_search(idx, g_x, 1, D, 1, NULL, &h));
    CHECK(h && fl_hits_id(h, 0, 0) == 7 && fl_hits_key(h, 0, 0) == NULL);
    fl_hits_free(h);
    const char *opts = "{\"filter\": {\"type\": \"and\", \"filters\": ["
                       "{\"type\": \"payload_in\", \"field\": \"svc\", \"values\": [\"pay\"]},"
                       "{\"type\": \"range\", \"field\": \"ms\", \"gte\": 100}]}}";
    CHECK_OK(fl_index_search(idx, g_x, 1, D, 10, opts, &h));
    CHECK(h && fl_hits_len(h, 0) == 1);
    CHECK_STR(fl_hits_key(h, 0, 0), "inc-2041");
    fl_hits_free(h);
    h = NULL;
    CHECK_STATUS(fl_index_search(idx, g_x, 1, D, 1, "{\"filter\": {\"type\": \"and\", \"filters\": []}}", &h),
                 FL_STATUS_INVALID_INPUT);
    FlStrings *ks = NULL;
    CHECK_OK(fl_index_keys(idx, &ks));
    CHECK(ks && fl_strings_len(ks) == 2);
    fl_strings_free(ks);
    bool has = false;
    CHECK_OK(fl_index_remove_keyed(idx, keys + 1, 1));
    CHECK_OK(fl_index_contains_key(idx, keys[1], &has));
    CHECK(!has);
    float recall = 0;
    size_t ef = 99;
    CHECK_OK(fl_index_estimated_recall(idx, &recall));
    CHECK_OK(fl_index_effective_ef(idx, &ef));
    CHECK(recall == 1.0f && ef == 0);
    fl_index_free(idx);

    FlTextIndex *t = NULL;
    CHECK_OK(fl_text_index_new("{\"embedding\": {\"type\": \"hybrid\", \"embedding_dim\": 8}}", &t));
    if (!t) return;
    const char *texts[] = {"payment service timeout", "database connection refused"};
    uint64_t *new_ids = NULL;
    CHECK_OK(fl_text_index_add_hybrid(t, texts, 2, g_x, D, NULL, &new_ids));
    CHECK(new_ids && new_ids[1] == 1);
    fl_ids_free(new_ids, 2);
    const char *q[] = {"database refused"};
    CHECK_OK(fl_text_index_search_hybrid(t, q, 1, g_x + D, D, 1, NULL, NULL, &h));
    CHECK(h && fl_hits_len(h, 0) == 1 && fl_hits_id(h, 0, 0) == 1);
    CHECK_STR(fl_hits_text(h, 0, 0), "database connection refused");
    fl_hits_free(h);
    h = NULL;
    CHECK_STATUS(fl_text_index_search_hybrid(t, q, 1, g_x, D, 1, NULL,
                                             "{\"type\": \"weighted\", \"text_weight\": 7}", &h),
                 FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "text_weight");
    fl_text_index_free(t);
}

int main(void) {
    make_rows();
    test_add_search_remove();
    test_bad_input();
    test_search_while_adding();
    test_text_index();
    test_keys_filters_hybrid();
    return check_finish("test_index");
}
