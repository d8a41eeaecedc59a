/* Error mapping at the C boundary: NULL pointers, invalid UTF-8, not fitted, bad config JSON,
 * out-of-range options, bad input; each gives its FlStatus and a message naming the problem.
 * (Corrupt / Format / WrongKind / Io are in test_models.c; Panic is covered by the Rust unit
 * tests in src/lib.rs, since no input can trigger one; nothing in this API yields Dimension yet.) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

static const char *const TEXTS[] = {"disk quota exceeded", "connection refused by peer"};
static const char *const TOKENS[] = {"disk", "quota", "connection", "refused"};
static const size_t DOC_LENS[] = {2, 2};

static void test_status_values_are_abi(void) {
    /* The numbers are part of the ABI: never renumber. */
    CHECK(FL_STATUS_OK == 0 && FL_STATUS_INVALID_CONFIG == 1 && FL_STATUS_INVALID_INPUT == 2);
    CHECK(FL_STATUS_NOT_FITTED == 3 && FL_STATUS_DIMENSION == 4 && FL_STATUS_FORMAT == 5);
    CHECK(FL_STATUS_CORRUPT == 6 && FL_STATUS_WRONG_KIND == 7 && FL_STATUS_IO == 8);
    CHECK(FL_STATUS_NULL_POINTER == 9 && FL_STATUS_INVALID_UTF8 == 10 && FL_STATUS_PANIC == 11);
    CHECK(sizeof(FlStatus) == 4);
}

static void test_null_pointers(void) {
    FlPreprocessor *p = NULL;
    FlTfidf *v = NULL;
    CHECK_OK(fl_preprocessor_new(NULL, &p));
    CHECK_OK(fl_tfidf_new("{\"preprocessor\":null}", &v));
    FlStrings *s = NULL;
    FlStringLists *sl = NULL;
    FlCsr *x = NULL;
    char *str = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;

    CHECK_STATUS(fl_preprocessor_new(NULL, NULL), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "out");
    CHECK_STATUS(fl_preprocessor_tokens(NULL, "x", &s), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "preprocessor");
    CHECK_STATUS(fl_preprocessor_tokens(p, NULL, &s), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "text");
    CHECK_STATUS(fl_preprocessor_tokens(p, "x", NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_preprocessor_process(p, NULL, &str), FL_STATUS_NULL_POINTER);
    CHECK(str == NULL);
    CHECK_STATUS(fl_preprocessor_tokens_batch(p, NULL, 2, &sl), FL_STATUS_NULL_POINTER);
    CHECK(sl == NULL);
    const char *with_null[] = {"ok", NULL};
    CHECK_STATUS(fl_preprocessor_process_batch(p, with_null, 2, &s), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "texts[1]");
    char *m = NULL;
    CHECK_STATUS(fl_preprocessor_template(p, "x", &m, NULL), FL_STATUS_NULL_POINTER);
    CHECK(m == NULL);
    CHECK_STATUS(fl_preprocessor_template_batch(p, TEXTS, 2, NULL, &s), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_preprocessor_config(NULL, &str), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_preprocessor_to_bytes(p, &bytes, NULL), FL_STATUS_NULL_POINTER);
    CHECK(bytes == NULL);
    FlPreprocessor *q = (FlPreprocessor *)&len; /* garbage: must be reset */
    CHECK_STATUS(fl_preprocessor_from_bytes(NULL, 10, &q), FL_STATUS_NULL_POINTER);
    CHECK(q == NULL); /* out-pointers are reset even when an input is the problem */
    CHECK_STATUS(fl_preprocessor_save(p, NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_preprocessor_load(NULL, &q), FL_STATUS_NULL_POINTER);

    CHECK_STATUS(fl_tfidf_fit(NULL, TEXTS, 2), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "vectorizer");
    CHECK_STATUS(fl_tfidf_fit(v, NULL, 2), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_tfidf_fit_tokens(v, TOKENS, NULL, 2), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "doc_lens");
    CHECK_STATUS(fl_tfidf_fit_tokens(v, NULL, DOC_LENS, 2), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "tokens");
    CHECK_OK(fl_tfidf_fit(v, TEXTS, 2));
    CHECK_STATUS(fl_tfidf_transform(v, TEXTS, 2, NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_tfidf_transform_tokens(v, TOKENS, DOC_LENS, 2, NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_tfidf_fit_transform(v, NULL, 1, &x), FL_STATUS_NULL_POINTER);
    CHECK(x == NULL);
    CHECK_STATUS(fl_tfidf_similarity(v, "a", NULL, NULL), FL_STATUS_NULL_POINTER);
    double sim = 0;
    CHECK_STATUS(fl_tfidf_similarity(v, "a", NULL, &sim), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "`b`");
    CHECK_STATUS(fl_tfidf_is_fitted(NULL, NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_tfidf_n_features(v, NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_tfidf_idf(v, NULL, &len), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_tfidf_vocabulary(NULL, &str), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_tfidf_save(v, NULL), FL_STATUS_NULL_POINTER);
    FlTfidf *w = (FlTfidf *)&len;
    CHECK_STATUS(fl_tfidf_load(NULL, &w), FL_STATUS_NULL_POINTER);
    CHECK(w == NULL);
    CHECK_STATUS(fl_inspect(NULL, &str), FL_STATUS_NULL_POINTER);

    /* Accessors on NULL return 0 / NULL rather than crash. */
    CHECK(fl_csr_rows(NULL) == 0 && fl_csr_cols(NULL) == 0 && fl_csr_nnz(NULL) == 0);
    CHECK(fl_csr_indptr(NULL) == NULL && fl_csr_indices(NULL) == NULL && fl_csr_data(NULL) == NULL);
    fl_tfidf_free(v);
    fl_preprocessor_free(p);
}

static void test_invalid_utf8(void) {
    FlPreprocessor *p = NULL;
    FlTfidf *v = NULL;
    CHECK_OK(fl_preprocessor_new(NULL, &p));
    CHECK_OK(fl_tfidf_new(NULL, &v));
    FlStrings *s = NULL;
    const char *bad = "ok \xff\xfe bytes";
    CHECK_STATUS(fl_preprocessor_tokens(p, bad, &s), FL_STATUS_INVALID_UTF8);
    CHECK_CONTAINS(fl_last_error(), "UTF-8");
    CHECK_CONTAINS(fl_last_error(), "offset 3");
    CHECK(s == NULL);
    const char *texts[] = {"fine", "truncated \xe2\x82"};
    CHECK_STATUS(fl_preprocessor_process_batch(p, texts, 2, &s), FL_STATUS_INVALID_UTF8);
    CHECK_CONTAINS(fl_last_error(), "texts[1]");
    CHECK_STATUS(fl_tfidf_fit(v, texts, 2), FL_STATUS_INVALID_UTF8);
    const char *toks[] = {"a", "\xc0\xaf"};
    const size_t lens[] = {2};
    CHECK_STATUS(fl_tfidf_fit_tokens(v, toks, lens, 1), FL_STATUS_INVALID_UTF8);
    CHECK_CONTAINS(fl_last_error(), "tokens[1]");
    FlPreprocessor *q = NULL;
    CHECK_STATUS(fl_preprocessor_new("{\"stemmer\":\"\xff\"}", &q), FL_STATUS_INVALID_UTF8);
    CHECK_CONTAINS(fl_last_error(), "config_json");
    fl_tfidf_free(v);
    fl_preprocessor_free(p);
}

static void test_not_fitted(void) {
    FlTfidf *v = NULL;
    CHECK_OK(fl_tfidf_new(NULL, &v));
    FlCsr *x = NULL;
    FlStrings *s = NULL;
    char *json = NULL;
    double *idf = NULL, sim = 0;
    size_t n = 7;
    CHECK_STATUS(fl_tfidf_transform(v, TEXTS, 2, &x), FL_STATUS_NOT_FITTED);
    CHECK_CONTAINS(fl_last_error(), "not fitted");
    CHECK(x == NULL);
    CHECK_STATUS(fl_tfidf_transform_tokens(v, TOKENS, DOC_LENS, 2, &x), FL_STATUS_NOT_FITTED);
    CHECK_STATUS(fl_tfidf_n_features(v, &n), FL_STATUS_NOT_FITTED);
    CHECK(n == 0);
    CHECK_STATUS(fl_tfidf_feature_names(v, &s), FL_STATUS_NOT_FITTED);
    CHECK_STATUS(fl_tfidf_vocabulary(v, &json), FL_STATUS_NOT_FITTED);
    CHECK_STATUS(fl_tfidf_idf(v, &idf, &n), FL_STATUS_NOT_FITTED);
    CHECK(idf == NULL && n == 0);
    CHECK_STATUS(fl_tfidf_similarity(v, "a", "b", &sim), FL_STATUS_NOT_FITTED);
    fl_tfidf_free(v);
}

static void expect_bad_tfidf_config(const char *json, const char *needle, int line) {
    FlTfidf *v = (FlTfidf *)1;
    FlStatus st = fl_tfidf_new(json, &v);
    check_record(st == FL_STATUS_INVALID_CONFIG, __FILE__, line, "fl_tfidf_new(bad) == FL_STATUS_INVALID_CONFIG");
    check_record(v == NULL, __FILE__, line, "out is NULL after a failure");
    int has = strstr(fl_last_error(), needle) != NULL;
    check_record(has, __FILE__, line, "fl_last_error() names the problem");
    if (!has || st != FL_STATUS_INVALID_CONFIG)
        fprintf(stderr, "     config %s -> status %d, \"%s\" (want \"%s\")\n", json, (int)st, fl_last_error(), needle);
    if (st == FL_STATUS_OK) fl_tfidf_free(v);
}
#define BAD_TFIDF(json, needle) expect_bad_tfidf_config(json, needle, __LINE__)

static void test_invalid_config(void) {
    /* JSON that does not parse or does not fit the config type. */
    BAD_TFIDF("{bad json", "config_json");
    BAD_TFIDF("[1, 2]", "config_json");
    BAD_TFIDF("{\"ngram\":[1,2]}", "unknown field `ngram`");
    BAD_TFIDF("{\"ngram_range\":\"1-2\"}", "column 20"); /* serde names the position, not the field */
    BAD_TFIDF("{\"norm\":\"l3\"}", "l3");
    BAD_TFIDF("{\"min_df\":\"two\"}", "count");
    /* Values out of range, named by field. */
    BAD_TFIDF("{\"ngram_range\":[0,1]}", "ngram_range");
    BAD_TFIDF("{\"ngram_range\":[3,2]}", "ngram_range");
    BAD_TFIDF("{\"ngram_range\":[1,99]}", "ngram_range");
    BAD_TFIDF("{\"min_df\":1.5}", "min_df");
    BAD_TFIDF("{\"max_df\":-0.25}", "max_df");
    BAD_TFIDF("{\"min_df\":0.8,\"max_df\":0.2}", "min_df");
    BAD_TFIDF("{\"max_features\":0}", "max_features");
    BAD_TFIDF("{\"preprocessor\":{\"stemmer\":\"klingon\"}}", "stemmer");
    BAD_TFIDF("{\"preprocessor\":{\"masks\":[\"phone\"]}}", "masks");

    FlPreprocessor *p = NULL;
    CHECK_STATUS(fl_preprocessor_new("{\"stop_words\":\"french\"}", &p), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "stop_words");
    CHECK_STATUS(fl_preprocessor_new("{\"custom_masks\":[{\"pattern\":\"(\",\"placeholder\":\"<x>\"}]}", &p),
                 FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "custom_masks");
    CHECK_STATUS(fl_preprocessor_new("{\"custom_masks\":[{\"pattern\":\"x+\",\"placeholder\":\"oops\"}]}", &p),
                 FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "placeholder");
    CHECK_STATUS(fl_preprocessor_new("{\"min_token_length\":-1}", &p), FL_STATUS_INVALID_CONFIG);
    CHECK_STATUS(fl_preprocessor_new("", &p), FL_STATUS_INVALID_CONFIG);
    CHECK(p == NULL);
}

static void test_invalid_input(void) {
    FlTfidf *v = NULL;
    CHECK_OK(fl_tfidf_new(NULL, &v));
    CHECK_STATUS(fl_tfidf_fit(v, NULL, 0), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "empty corpus");
    const char *stop[] = {"the and of", "is a"};
    CHECK_STATUS(fl_tfidf_fit(v, stop, 2), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "empty vocabulary");
    bool fitted = true;
    CHECK_OK(fl_tfidf_is_fitted(v, &fitted));
    CHECK(!fitted);
    /* A failed refit keeps the previous state. */
    CHECK_OK(fl_tfidf_fit(v, TEXTS, 2));
    CHECK_STATUS(fl_tfidf_fit(v, stop, 2), FL_STATUS_INVALID_INPUT);
    size_t n = 0;
    CHECK_OK(fl_tfidf_n_features(v, &n));
    CHECK(n > 0);
    fl_tfidf_free(v);

    /* A count bound above a fraction bound is only known at fit time: still InvalidConfig. */
    CHECK_OK(fl_tfidf_new("{\"min_df\":2,\"max_df\":0.1,\"preprocessor\":null}", &v));
    CHECK_STATUS(fl_tfidf_fit(v, TEXTS, 2), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "max_df");
    fl_tfidf_free(v);
}

/* fl_last_error() is per thread. */
static void *other_thread(void *arg) {
    int *ok = arg;
    *ok = fl_last_error()[0] == '\0'; /* nothing failed on this thread yet */
    FlPreprocessor *p = NULL;
    *ok &= fl_preprocessor_new("{\"stemmer\":\"elvish\"}", &p) == FL_STATUS_INVALID_CONFIG;
    *ok &= strstr(fl_last_error(), "elvish") != NULL;
    return NULL;
}

static void test_last_error_per_thread(void) {
    FlTfidf *v = NULL;
    CHECK_STATUS(fl_tfidf_new("{\"max_features\":0}", &v), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "max_features");
    int ok = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, other_thread, &ok) == 0);
    pthread_join(t, NULL);
    CHECK(ok);
    CHECK_CONTAINS(fl_last_error(), "max_features"); /* untouched by the other thread */
    /* A successful call leaves the message in place (errno-like). */
    CHECK_OK(fl_tfidf_new(NULL, &v));
    CHECK_CONTAINS(fl_last_error(), "max_features");
    fl_tfidf_free(v);
}

static void test_panic_is_a_status(void) {
    CHECK_STATUS(fl_panic_for_tests("boom"), FL_STATUS_PANIC);
    CHECK_CONTAINS(fl_last_error(), "panic inside faultlens");
    CHECK_CONTAINS(fl_last_error(), "boom");
    CHECK_STATUS(fl_panic_for_tests(NULL), FL_STATUS_PANIC);
    CHECK(fl_version()[0] != '\0'); /* still usable */
}

/* Freeing a handle twice through its own _free function is refused with a message (valgrind
 * sees no invalid free), and the library stays usable. */
static void test_double_free_is_refused(void) {
    FlPreprocessor *p = NULL;
    CHECK_OK(fl_preprocessor_new(NULL, &p));
    fl_preprocessor_free(p);
    fl_preprocessor_free(p);
    CHECK_CONTAINS(fl_last_error(), "already freed");
    CHECK_CONTAINS(fl_last_error(), "FlPreprocessor");

    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new(NULL, &r));
    const char *errors[] = {"disk quota exceeded on /var"}, *solutions[] = {"expand_disk"};
    CHECK_OK(fl_resolver_add_knowledge(r, errors, solutions, 1, NULL));
    FlResolution *res = NULL;
    CHECK_OK(fl_resolver_resolve(r, "disk quota exceeded on /home", NULL, &res));
    fl_resolution_free(res);
    fl_resolution_free(res);
    CHECK_CONTAINS(fl_last_error(), "FlResolution");
    fl_resolver_free(r);
    fl_resolver_free(r);
    CHECK_CONTAINS(fl_last_error(), "FlResolver");

    /* A pointer faultlens never made is refused too. */
    int not_ours = 0;
    fl_tfidf_free((FlTfidf *)&not_ours);
    CHECK_CONTAINS(fl_last_error(), "not made by faultlens");
    CHECK(fl_version()[0] != '\0');
}

/* Handles carry their type: a free through another type's _free function, or a borrowed object
 * passed to _free, returns FL_STATUS_INVALID_INPUT and frees nothing (valgrind sees no invalid
 * free); a method given another type's handle is refused the same way. */
static void test_wrong_type_is_refused(void) {
    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new(NULL, &r));
    const char *errors[] = {"disk quota exceeded on /var"}, *solutions[] = {"expand_disk"};
    CHECK_OK(fl_resolver_add_knowledge(r, errors, solutions, 1, NULL));
    const char *texts[] = {"disk quota exceeded on /home", "disk quota exceeded"};
    FlResolutions *list = NULL;
    CHECK_OK(fl_resolver_resolve_batch(r, texts, 2, NULL, &list));
    CHECK_STATUS(fl_resolution_free((FlResolution *)list), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "fl_resolution_free was given an FlResolutions");
    CHECK_CONTAINS(fl_last_error(), "nothing freed");
    CHECK(fl_resolutions_len(list) == 2); /* still intact */
    /* A resolution borrowed from the list is not a handle of its own. */
    CHECK_STATUS(fl_resolution_free((FlResolution *)fl_resolutions_get(list, 0)), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_preprocessor_free((FlPreprocessor *)r), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "FlResolver");
    /* A method given another type's handle. */
    FlResolution *res = NULL;
    CHECK_STATUS(fl_resolver_resolve((FlResolver *)list, "disk", NULL, &res), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "`resolver` is an FlResolutions, not an FlResolver");
    CHECK(res == NULL);
    CHECK_OK(fl_resolutions_free(list));
    CHECK_OK(fl_resolutions_free(NULL));
    CHECK_OK(fl_resolver_free(r));
    CHECK_STATUS(fl_resolver_free(r), FL_STATUS_INVALID_INPUT);
}

/* Every config is a JSON object: serde would fill a struct from an array by position. */
static void test_configs_must_be_objects(void) {
    FlKlDrift *d = NULL;
    CHECK_STATUS(fl_kl_drift_new("[]", &d), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "must be a JSON object");
    CHECK_CONTAINS(fl_last_error(), "an array");
    CHECK(d == NULL);
    FlResolver *r = NULL;
    CHECK_STATUS(fl_resolver_new("[]", &r), FL_STATUS_INVALID_CONFIG);
    CHECK_STATUS(fl_resolver_new("3", &r), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "a number");
    CHECK_STATUS(fl_resolver_new("null", &r), FL_STATUS_INVALID_CONFIG);
    FlWindow *w = NULL;
    CHECK_STATUS(fl_window_new("[300000]", &w), FL_STATUS_INVALID_CONFIG);
    FlIndex *idx = NULL;
    CHECK_STATUS(fl_index_new("[4]", &idx), FL_STATUS_INVALID_CONFIG);
    CHECK_OK(fl_index_new("{\"dim\": 2}", &idx));
    const float v[] = {1, 0};
    const uint64_t id = 1;
    CHECK_OK(fl_index_add(idx, &id, v, 1, 2, NULL));
    FlHits *hits = NULL;
    CHECK_STATUS(fl_index_search(idx, v, 1, 2, 1, "[]", &hits), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "options_json");
    CHECK(hits == NULL);
    fl_index_free(idx);
}

/* A NULL handle is named before any file is touched. */
static void test_handle_checked_before_files(void) {
    CHECK_STATUS(fl_resolver_load_rules(NULL, "/no/such/rules.json"), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "`resolver` is NULL");
    CHECK_STATUS(fl_resolver_load_classifier(NULL, "/no/such/model.flm"), FL_STATUS_NULL_POINTER);
    CHECK_CONTAINS(fl_last_error(), "`resolver` is NULL");
    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new(NULL, &r));
    CHECK_STATUS(fl_resolver_load_rules(r, "/no/such/rules.json"), FL_STATUS_IO);
    CHECK_CONTAINS(fl_last_error(), "/no/such/rules.json"); /* the I/O error names its file */
    fl_resolver_free(r);
}

int main(void) {
    test_double_free_is_refused();
    test_panic_is_a_status();
    test_status_values_are_abi();
    test_null_pointers();
    test_invalid_utf8();
    test_not_fitted();
    test_invalid_config();
    test_invalid_input();
    test_last_error_per_thread();
    test_wrong_type_is_refused();
    test_configs_must_be_objects();
    test_handle_checked_before_files();
    return check_finish("test_errors");
}
