/* FlPreprocessor from C: the shared text cases (tests/fixtures/text_cases.json via
 * expected_text.h), batches, config round trip, and the module functions. */
#include "check.h"
#include "expected_text.h"

static char *join_tokens(const TextCase *c) {
    size_t len = 1;
    for (size_t i = 0; i < c->n_tokens; i++) len += strlen(c->tokens[i]) + 1;
    char *s = calloc(len, 1);
    for (size_t i = 0; i < c->n_tokens; i++) {
        if (i) strcat(s, " ");
        strcat(s, c->tokens[i]);
    }
    return s;
}

static void test_case(const TextCase *c) {
    FlPreprocessor *p = NULL;
    CHECK_OK(fl_preprocessor_new(c->config, &p));
    if (!p) {
        fprintf(stderr, "     case %s\n", c->name);
        return;
    }

    FlStrings *toks = NULL;
    CHECK_OK(fl_preprocessor_tokens(p, c->text, &toks));
    int same = strings_equal(toks, c->tokens, c->n_tokens);
    CHECK(same);
    if (!same) fprintf(stderr, "     case %s\n", c->name);
    fl_strings_free(toks);

    char *processed = NULL;
    char *want = join_tokens(c);
    CHECK_OK(fl_preprocessor_process(p, c->text, &processed));
    CHECK_STR(processed, want);
    fl_string_free(processed);

    char *masked = NULL, *id = NULL;
    CHECK_OK(fl_preprocessor_template(p, c->text, &masked, &id));
    CHECK_STR(masked, c->masked);
    CHECK_STR(id, c->template_id);
    fl_string_free(masked);
    fl_string_free(id);

    /* The batch versions give the same answers, in order. */
    const char *texts[3] = {c->text, "", c->text};
    FlStringLists *lists = NULL;
    CHECK_OK(fl_preprocessor_tokens_batch(p, texts, 3, &lists));
    CHECK(fl_string_lists_len(lists) == 3);
    CHECK(strings_equal(fl_string_lists_get(lists, 0), c->tokens, c->n_tokens));
    CHECK(fl_strings_len(fl_string_lists_get(lists, 1)) == 0);
    CHECK(strings_equal(fl_string_lists_get(lists, 2), c->tokens, c->n_tokens));
    CHECK(fl_string_lists_get(lists, 3) == NULL);
    fl_string_lists_free(lists);

    FlStrings *procs = NULL;
    CHECK_OK(fl_preprocessor_process_batch(p, texts, 3, &procs));
    CHECK(fl_strings_len(procs) == 3);
    CHECK_STR(fl_strings_get(procs, 0), want);
    CHECK_STR(fl_strings_get(procs, 1), "");
    CHECK_STR(fl_strings_get(procs, 2), want);
    CHECK(fl_strings_get(procs, 3) == NULL);
    fl_strings_free(procs);

    FlStrings *ms = NULL, *ids = NULL;
    CHECK_OK(fl_preprocessor_template_batch(p, texts, 3, &ms, &ids));
    CHECK(fl_strings_len(ms) == 3 && fl_strings_len(ids) == 3);
    CHECK_STR(fl_strings_get(ms, 2), c->masked);
    CHECK_STR(fl_strings_get(ids, 2), c->template_id);
    fl_strings_free(ms);
    fl_strings_free(ids);

    free(want);
    fl_preprocessor_free(p);
}

static void test_config_round_trip(void) {
    FlPreprocessor *p = NULL, *q = NULL;
    CHECK_OK(fl_preprocessor_new("{\"stemmer\":\"none\",\"custom_masks\":"
                                 "[{\"pattern\":\"ord-[0-9]+\",\"placeholder\":\"<order>\"}]}",
                                 &p));
    char *json = NULL;
    CHECK_OK(fl_preprocessor_config(p, &json));
    CHECK_CONTAINS(json, "\"stemmer\":\"none\"");
    CHECK_CONTAINS(json, "<order>");
    CHECK_CONTAINS(json, "\"min_token_length\":2"); /* every field, defaults included */
    CHECK_OK(fl_preprocessor_new(json, &q));
    char *a = NULL, *b = NULL;
    CHECK_OK(fl_preprocessor_process(p, "Order ord-42 failed after retries", &a));
    CHECK_OK(fl_preprocessor_process(q, "Order ord-42 failed after retries", &b));
    CHECK_STR(a, "order <order> failed after retries");
    CHECK_STR(a, b);
    fl_string_free(a);
    fl_string_free(b);
    fl_string_free(json);
    fl_preprocessor_free(p);
    fl_preprocessor_free(q);

    /* NULL config means the defaults, as does {}. */
    FlPreprocessor *d1 = NULL, *d2 = NULL;
    CHECK_OK(fl_preprocessor_new(NULL, &d1));
    CHECK_OK(fl_preprocessor_new("{}", &d2));
    char *j1 = NULL, *j2 = NULL;
    CHECK_OK(fl_preprocessor_config(d1, &j1));
    CHECK_OK(fl_preprocessor_config(d2, &j2));
    CHECK_STR(j1, j2);
    fl_string_free(j1);
    fl_string_free(j2);
    fl_preprocessor_free(d1);
    fl_preprocessor_free(d2);
}

static void test_empty_and_large_batches(void) {
    FlPreprocessor *p = NULL;
    CHECK_OK(fl_preprocessor_new(NULL, &p));
    /* n == 0 accepts a NULL array. */
    FlStringLists *lists = NULL;
    CHECK_OK(fl_preprocessor_tokens_batch(p, NULL, 0, &lists));
    CHECK(lists != NULL && fl_string_lists_len(lists) == 0);
    fl_string_lists_free(lists);
    FlStrings *ms = NULL, *ids = NULL;
    CHECK_OK(fl_preprocessor_template_batch(p, NULL, 0, &ms, &ids));
    CHECK(fl_strings_len(ms) == 0 && fl_strings_len(ids) == 0);
    fl_strings_free(ms);
    fl_strings_free(ids);

    /* Above the parallel threshold (256), with parallelism on and off: same results. */
    enum { N = 600 };
    static char buf[N][64];
    const char *texts[N];
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "worker %d: connection refused to 10.0.%d.%d", i, i % 7, i % 250);
        texts[i] = buf[i];
    }
    for (int mode = 0; mode < 2; mode++) {
        fl_set_parallelism(mode == 0);
        CHECK(fl_parallelism() == (mode == 0));
        FlStrings *out = NULL;
        CHECK_OK(fl_preprocessor_process_batch(p, texts, N, &out));
        CHECK(fl_strings_len(out) == N);
        CHECK_STR(fl_strings_get(out, 0), "worker <num> connect refus <ip>");
        CHECK_STR(fl_strings_get(out, N - 1), "worker <num> connect refus <ip>");
        fl_strings_free(out);
    }
    fl_set_parallelism(true);
    fl_preprocessor_free(p);
}

static void test_module_functions(void) {
    const char *v = fl_version();
    CHECK(v != NULL && v[0] != '\0');
    CHECK(strchr(v, '.') != NULL);
    CHECK(fl_last_error() != NULL);
    /* Freeing NULL is a no-op everywhere. */
    fl_string_free(NULL);
    fl_bytes_free(NULL, 0);
    fl_doubles_free(NULL, 0);
    fl_strings_free(NULL);
    fl_string_lists_free(NULL);
    fl_preprocessor_free(NULL);
    fl_tfidf_free(NULL);
    fl_csr_free(NULL);
    CHECK(fl_strings_len(NULL) == 0 && fl_strings_get(NULL, 0) == NULL);
    CHECK(fl_string_lists_len(NULL) == 0 && fl_string_lists_get(NULL, 0) == NULL);
}

int main(void) {
    for (size_t i = 0; i < TX_N_CASES; i++) test_case(&TX_CASES[i]);
    test_config_round_trip();
    test_empty_and_large_batches();
    test_module_functions();
    return check_finish("test_text");
}
