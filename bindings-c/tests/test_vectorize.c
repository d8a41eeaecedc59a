/* FlTfidf / FlCsr from C: scikit-learn parity on the shared fixture (expected_sklearn.h, all
 * cases, tolerance 1e-6), the raw-text path, accessors, and concurrent readers. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"
#include "expected_sklearn.h"

#define TOL 1e-6

/* 1 when `m` equals the expected CSR matrix of `c` (values within TOL). */
static int csr_matches(const FlCsr *m, const SkCase *c) {
    if (fl_csr_rows(m) != c->rows || fl_csr_cols(m) != c->cols || fl_csr_nnz(m) != c->nnz) {
        fprintf(stderr, "     %s: shape %zux%zu nnz %zu, want %zux%zu nnz %zu\n", c->name, fl_csr_rows(m),
                fl_csr_cols(m), fl_csr_nnz(m), c->rows, c->cols, c->nnz);
        return 0;
    }
    const size_t *indptr = fl_csr_indptr(m);
    const uint32_t *indices = fl_csr_indices(m);
    const double *data = fl_csr_data(m);
    for (size_t i = 0; i <= c->rows; i++)
        if (indptr[i] != c->indptr[i]) return fprintf(stderr, "     %s: indptr[%zu]\n", c->name, i), 0;
    for (size_t i = 0; i < c->nnz; i++) {
        if (indices[i] != c->indices[i]) return fprintf(stderr, "     %s: indices[%zu]\n", c->name, i), 0;
        if (fabs(data[i] - c->data[i]) > TOL)
            return fprintf(stderr, "     %s: data[%zu] %.12g != %.12g\n", c->name, i, data[i], c->data[i]), 0;
    }
    return 1;
}

static void test_sklearn_case(const SkCase *c) {
    FlTfidf *v = NULL;
    CHECK_OK(fl_tfidf_new(c->config, &v));
    if (!v) return;
    bool fitted = true;
    CHECK_OK(fl_tfidf_is_fitted(v, &fitted));
    CHECK(!fitted);

    FlCsr *x = NULL;
    CHECK_OK(fl_tfidf_fit_transform_tokens(v, SK_TOKENS, SK_DOC_LENS, SK_N_DOCS, &x));
    CHECK(csr_matches(x, c));
    fl_csr_free(x);
    CHECK_OK(fl_tfidf_is_fitted(v, &fitted));
    CHECK(fitted);

    size_t n = 0;
    CHECK_OK(fl_tfidf_n_features(v, &n));
    CHECK(n == c->n_features);
    FlStrings *names = NULL;
    CHECK_OK(fl_tfidf_feature_names(v, &names));
    CHECK(strings_equal(names, c->feature_names, c->n_features));
    fl_strings_free(names);

    double *idf = NULL;
    size_t idf_len = 0;
    CHECK_OK(fl_tfidf_idf(v, &idf, &idf_len));
    CHECK(idf_len == c->n_features);
    int idf_ok = idf_len == c->n_features;
    for (size_t i = 0; idf_ok && i < idf_len; i++)
        idf_ok = fabs(idf[i] - (c->idf ? c->idf[i] : 1.0)) <= TOL;
    CHECK(idf_ok);
    fl_doubles_free(idf, idf_len);

    /* fit_tokens then transform_tokens gives the same matrix. */
    FlTfidf *w = NULL;
    CHECK_OK(fl_tfidf_new(c->config, &w));
    CHECK_OK(fl_tfidf_fit_tokens(w, SK_TOKENS, SK_DOC_LENS, SK_N_DOCS));
    CHECK_OK(fl_tfidf_transform_tokens(w, SK_TOKENS, SK_DOC_LENS, SK_N_DOCS, &x));
    CHECK(csr_matches(x, c));
    fl_csr_free(x);
    fl_tfidf_free(w);
    fl_tfidf_free(v);
}

/* Raw texts: with "preprocessor": null a text is split on whitespace, so joining each token list
 * with spaces must reproduce the token results. */
static void test_raw_texts(const SkCase *c) {
    char *joined[SK_N_DOCS];
    const char *texts[SK_N_DOCS];
    size_t t = 0;
    for (size_t d = 0; d < SK_N_DOCS; d++) {
        size_t len = 1;
        for (size_t k = 0; k < SK_DOC_LENS[d]; k++) len += strlen(SK_TOKENS[t + k]) + 1;
        joined[d] = calloc(len, 1);
        for (size_t k = 0; k < SK_DOC_LENS[d]; k++) {
            if (k) strcat(joined[d], " ");
            strcat(joined[d], SK_TOKENS[t + k]);
        }
        t += SK_DOC_LENS[d];
        texts[d] = joined[d];
    }
    FlTfidf *v = NULL;
    FlCsr *x = NULL;
    CHECK_OK(fl_tfidf_new(c->config, &v));
    CHECK_OK(fl_tfidf_fit_transform(v, texts, SK_N_DOCS, &x));
    CHECK(csr_matches(x, c));
    fl_csr_free(x);

    FlTfidf *w = NULL;
    CHECK_OK(fl_tfidf_new(c->config, &w));
    CHECK_OK(fl_tfidf_fit(w, texts, SK_N_DOCS));
    CHECK_OK(fl_tfidf_transform(w, texts, SK_N_DOCS, &x));
    CHECK(csr_matches(x, c));
    fl_csr_free(x);

    /* Similarity: a document with itself is 1, with an unrelated text 0. */
    double s = -1;
    CHECK_OK(fl_tfidf_similarity(w, texts[0], texts[0], &s));
    CHECK_NEAR(s, 1.0, 1e-12);
    CHECK_OK(fl_tfidf_similarity(w, texts[0], "zzz-not-in-vocabulary", &s));
    CHECK_NEAR(s, 0.0, 1e-12);
    fl_tfidf_free(w);
    fl_tfidf_free(v);
    for (size_t d = 0; d < SK_N_DOCS; d++) free(joined[d]);
}

static void test_config_and_vocabulary(void) {
    FlTfidf *v = NULL;
    CHECK_OK(fl_tfidf_new("{\"ngram_range\":[1,2],\"min_df\":1,\"max_df\":0.9,\"norm\":\"l1\","
                          "\"preprocessor\":{\"stemmer\":\"none\"}}",
                          &v));
    char *json = NULL;
    CHECK_OK(fl_tfidf_config(v, &json));
    CHECK_CONTAINS(json, "\"ngram_range\":[1,2]");
    CHECK_CONTAINS(json, "\"max_df\":0.9");
    CHECK_CONTAINS(json, "\"norm\":\"l1\"");
    CHECK_CONTAINS(json, "\"stemmer\":\"none\"");
    /* The config JSON builds an equal vectoriser. */
    FlTfidf *w = NULL;
    CHECK_OK(fl_tfidf_new(json, &w));
    char *json2 = NULL;
    CHECK_OK(fl_tfidf_config(w, &json2));
    CHECK_STR(json, json2);
    fl_string_free(json);
    fl_string_free(json2);
    fl_tfidf_free(w);

    const char *texts[] = {"Disk quota exceeded on node 7", "Connection refused by node 9",
                           "Disk full on node 3"};
    CHECK_OK(fl_tfidf_fit(v, texts, 3));
    CHECK_OK(fl_tfidf_vocabulary(v, &json));
    CHECK(json != NULL && json[0] == '{');
    CHECK_CONTAINS(json, "\"disk\":");
    CHECK_CONTAINS(json, "\"disk quota\":");
    /* every feature name appears once in the JSON */
    FlStrings *names = NULL;
    CHECK_OK(fl_tfidf_feature_names(v, &names));
    for (size_t i = 0; i < fl_strings_len(names); i++) {
        char key[256];
        snprintf(key, sizeof key, "\"%s\":%zu", fl_strings_get(names, i), i);
        CHECK_CONTAINS(json, key);
    }
    fl_strings_free(names);
    fl_string_free(json);

    double s = 0;
    CHECK_OK(fl_tfidf_similarity(v, "disk quota exceeded on node 12", "Disk quota exceeded on node 7", &s));
    CHECK_NEAR(s, 1.0, 1e-9); /* numbers are masked */
    fl_tfidf_free(v);
}

/* An FlTfidf is shared by reader threads; results do not depend on the interleaving. */
typedef struct {
    const FlTfidf *v;
    int ok;
} Reader;

static void *reader(void *arg) {
    Reader *r = arg;
    r->ok = 1;
    for (int i = 0; i < 50; i++) {
        FlCsr *x = NULL;
        if (fl_tfidf_transform_tokens(r->v, SK_TOKENS, SK_DOC_LENS, SK_N_DOCS, &x) != FL_STATUS_OK ||
            !csr_matches(x, &SK_CASES[0]))
            r->ok = 0;
        fl_csr_free(x);
        double s = 0;
        if (fl_tfidf_similarity(r->v, "block blk_ served", "block blk_ served", &s) != FL_STATUS_OK ||
            fabs(s - 1.0) > 1e-12)
            r->ok = 0;
    }
    return NULL;
}

static void test_concurrent_readers(void) {
    FlTfidf *v = NULL;
    CHECK_OK(fl_tfidf_new(SK_CASES[0].config, &v));
    CHECK_OK(fl_tfidf_fit_tokens(v, SK_TOKENS, SK_DOC_LENS, SK_N_DOCS));
    enum { T = 4 };
    pthread_t th[T];
    Reader rs[T];
    for (int i = 0; i < T; i++) {
        rs[i].v = v;
        CHECK(pthread_create(&th[i], NULL, reader, &rs[i]) == 0);
    }
    /* A refit with the same data while readers run: they see either state, both equal. */
    CHECK_OK(fl_tfidf_fit_tokens(v, SK_TOKENS, SK_DOC_LENS, SK_N_DOCS));
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        CHECK(rs[i].ok);
    }
    fl_tfidf_free(v);
}

/* max_distinct_terms caps what fit may count: a clear InvalidInput naming the field. */
static void test_distinct_terms_cap(void) {
    char docs[50][32];
    const char *texts[50];
    for (int i = 0; i < 50; i++) {
        snprintf(docs[i], sizeof docs[i], "w%da w%db w%dc", i, i, i);
        texts[i] = docs[i];
    }
    FlTfidf *v = NULL;
    CHECK_OK(fl_tfidf_new("{\"ngram_range\":[1,2],\"preprocessor\":null,\"max_distinct_terms\":100}", &v));
    CHECK(fl_tfidf_fit(v, texts, 50) == FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "max_distinct_terms = 100");
    fl_tfidf_free(v);
    CHECK_OK(fl_tfidf_new("{\"ngram_range\":[1,2],\"preprocessor\":null,\"max_distinct_terms\":null}", &v));
    CHECK_OK(fl_tfidf_fit(v, texts, 50));
    size_t n = 0;
    CHECK_OK(fl_tfidf_n_features(v, &n));
    CHECK(n == 250);
    fl_tfidf_free(v);
    CHECK(fl_tfidf_new("{\"max_distinct_terms\":0}", &v) == FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "max_distinct_terms");
}

int main(void) {
    for (size_t i = 0; i < SK_N_CASES; i++) test_sklearn_case(&SK_CASES[i]);
    test_raw_texts(&SK_CASES[0]);
    test_raw_texts(&SK_CASES[1]);
    test_config_and_vocabulary();
    test_concurrent_readers();
    test_distinct_terms_cap();
    return check_finish("test_vectorize");
}
