/* The resolver from C: rules and knowledge from the bundled example files, the cascade's answers
 * and their accessors, batch, feedback, Prometheus text, bytes/file round trips, and bad input
 * (bad regex naming the rule, bad JSONL line, empty text, unknown method, NULLs). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "expected_novelty.h"

#ifndef FL_FIXTURES
#error "compile with -DFL_FIXTURES='\"<repo>/tests/fixtures\"'"
#endif
#define DATA FL_FIXTURES "/../../examples/data"

static FlResolver *build(void) {
    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new("{\"similarity_threshold\": 0.7, \"top_k\": 2}", &r));
    CHECK_OK(fl_resolver_load_rules(r, DATA "/rules.toml"));
    size_t added = 0;
    CHECK_OK(fl_resolver_load_knowledge(r, DATA "/errors.jsonl", false, &added));
    CHECK(added > 100);
    size_t size = 0;
    CHECK_OK(fl_resolver_knowledge_size(r, &size));
    CHECK(size == added);
    return r;
}

static void test_cascade(FlResolver *r) {
    FlResolution *res = NULL;
    /* A rule answers first, with confidence 1 and the rule's name. */
    CHECK_OK(fl_resolver_resolve(r, "Container api-1 was OOMKilled (exit code 137)", NULL, &res));
    CHECK_STR(fl_resolution_method(res), "exact_match");
    CHECK_STR(fl_resolution_solution(res), "increase_memory_limit");
    CHECK_STR(fl_resolution_rule(res), "oom-killed");
    CHECK_NEAR(fl_resolution_confidence(res), 1.0, 1e-12);
    CHECK(fl_resolution_reliable(res));
    fl_resolution_free(res);

    /* Similarity only: a known error with other numbers is a near-exact match. */
    CHECK_OK(fl_resolver_resolve(r, "Container billing-7ccf2 was OOMKilled (exit code 137), memory limit 2048Mi",
                                 "similarity", &res));
    CHECK_STR(fl_resolution_method(res), "similarity_match");
    CHECK_STR(fl_resolution_solution(res), "increase_memory_limit");
    CHECK(fl_resolution_confidence(res) > 0.9);
    CHECK(fl_resolution_rule(res) == NULL);
    char *json = NULL;
    CHECK_OK(fl_resolution_to_json(res, &json));
    CHECK_CONTAINS(json, "\"similar\":[{");
    CHECK_CONTAINS(json, "\"elapsed_us\":");
    fl_string_free(json);
    fl_resolution_free(res);

    /* Nothing known: no_match, no solution, not reliable. */
    CHECK_OK(fl_resolver_resolve(r, "zzqx flux capacitor hums", "auto", &res));
    CHECK_STR(fl_resolution_method(res), "no_match");
    CHECK(fl_resolution_solution(res) == NULL);
    CHECK(!fl_resolution_reliable(res));
    fl_resolution_free(res);
}

static void test_batch_and_metrics(FlResolver *r) {
    const char *texts[] = {"disk quota exceeded on /var", "zzqx", "x509: certificate has expired"};
    FlResolutions *list = NULL;
    CHECK_OK(fl_resolver_resolve_batch(r, texts, 3, NULL, &list));
    CHECK(fl_resolutions_len(list) == 3);
    CHECK_STR(fl_resolution_solution(fl_resolutions_get(list, 0)), "expand_disk");
    CHECK_STR(fl_resolution_solution(fl_resolutions_get(list, 2)), "renew_tls_certificate");
    CHECK(fl_resolutions_get(list, 3) == NULL);
    fl_resolutions_free(list);

    CHECK_OK(fl_resolver_record_outcome(r, texts[0], "expand_disk", true));
    char *json = NULL;
    CHECK_OK(fl_resolver_outcomes(r, &json));
    CHECK_CONTAINS(json, "\"method\":\"exact_match\"");
    CHECK_CONTAINS(json, "\"rule\":\"");
    fl_string_free(json);
    CHECK_OK(fl_resolver_summary(r, &json));
    CHECK_CONTAINS(json, "\"by_solution\":{\"expand_disk\":{\"success\":1,\"failure\":0,\"success_rate\":1.0}}");
    CHECK_CONTAINS(json, "\"max_latency_ms\":");
    fl_string_free(json);
    CHECK_OK(fl_resolver_metrics(r, &json));
    CHECK_CONTAINS(json, "\"exact_match\":");
    fl_string_free(json);
    char *text = NULL;
    CHECK_OK(fl_resolver_metrics_prometheus(r, &text));
    CHECK_CONTAINS(text, "# TYPE faultlens_resolutions_total counter");
    CHECK_CONTAINS(text, "faultlens_resolutions_total{method=\"exact_match\"}");
    CHECK_CONTAINS(text, "faultlens_resolve_latency_seconds_bucket{le=\"+Inf\"}");
    fl_string_free(text);
    CHECK_OK(fl_resolver_reset_metrics(r));
    CHECK_OK(fl_resolver_metrics(r, &json));
    CHECK_CONTAINS(json, "\"total\":0");
    fl_string_free(json);
}

static void test_rules_and_config(FlResolver *r) {
    char *json = NULL;
    CHECK_OK(fl_resolver_rules(r, &json));
    CHECK_CONTAINS(json, "\"name\":\"oom-killed\"");
    fl_string_free(json);
    CHECK_OK(fl_resolver_config(r, &json));
    CHECK_CONTAINS(json, "\"top_k\":2");
    fl_string_free(json);

    FlResolver *s = NULL;
    size_t n = 0;
    CHECK_OK(fl_resolver_new(NULL, &s));
    CHECK_OK(fl_resolver_set_rules(s, "[{\"pattern\": \"refused\", \"solution\": \"restart\"}]", &n));
    CHECK(n == 1);
    CHECK_STATUS(fl_resolver_set_rules(s, "[{\"name\": \"broken\", \"pattern\": \"(\", \"solution\": \"x\"}]", &n),
                 FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "broken");
    /* A knowledge line that is not JSON: the error names the line. */
    char path[] = "/tmp/fl_kb_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *kb = "{\"error\": \"database connection refused\", \"solution\": \"restart_db\"}\nnot json\n";
    CHECK(write(fd, kb, strlen(kb)) == (ssize_t)strlen(kb));
    close(fd);
    CHECK_STATUS(fl_resolver_load_knowledge(s, path, false, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "line 2");
    size_t added = 0;
    CHECK_OK(fl_resolver_load_knowledge(s, path, true, &added));
    CHECK(added == 1);
    unlink(path);
    fl_resolver_free(s);
}

static void test_round_trips(FlResolver *r) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_OK(fl_resolver_to_bytes(r, &bytes, &len));
    FlResolver *copy = NULL;
    CHECK_OK(fl_resolver_from_bytes(bytes, len, &copy));
    fl_resolver_free(copy);
    CHECK_STATUS(fl_resolver_from_bytes(bytes, len / 2, &copy), FL_STATUS_CORRUPT);
    CHECK(copy == NULL);
    fl_bytes_free(bytes, len);

    char path[] = "/tmp/fl_resolver_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(fl_resolver_save(r, path));
    FlResolver *loaded = NULL;
    CHECK_OK(fl_resolver_load(path, &loaded));
    FlResolution *a = NULL, *b = NULL;
    const char *t = "ThrottlingException: Rate exceeded (Request ID: 123)";
    CHECK_OK(fl_resolver_resolve(r, t, NULL, &a));
    CHECK_OK(fl_resolver_resolve(loaded, t, NULL, &b));
    CHECK_STR(fl_resolution_solution(a), fl_resolution_solution(b));
    CHECK_NEAR(fl_resolution_confidence(a), fl_resolution_confidence(b), 1e-12);
    fl_resolution_free(a);
    fl_resolution_free(b);
    fl_resolver_free(loaded);
    unlink(path);
    /* Loading another artifact kind is WRONG_KIND. */
    CHECK_STATUS(fl_resolver_load(FL_FIXTURES "/models/v1/preprocessor.flm", &loaded), FL_STATUS_WRONG_KIND);
}

static void test_bad_input(FlResolver *r) {
    FlResolution *res = NULL;
    CHECK_STATUS(fl_resolver_resolve(r, "", NULL, &res), FL_STATUS_INVALID_INPUT);
    CHECK(res == NULL);
    CHECK_STATUS(fl_resolver_resolve(r, "disk full", "psychic", &res), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "psychic");
    CHECK_STATUS(fl_resolver_resolve(NULL, "x", NULL, &res), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_resolver_resolve(r, NULL, NULL, &res), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_resolver_resolve(r, "\xff\xfe", NULL, &res), FL_STATUS_INVALID_UTF8);
    const char *texts[] = {"ok text", ""};
    FlResolutions *list = NULL;
    CHECK_STATUS(fl_resolver_resolve_batch(r, texts, 2, NULL, &list), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "text 1");
    CHECK(list == NULL);
    FlResolver *bad = NULL;
    CHECK_STATUS(fl_resolver_new("{\"similarity_threshold\": 1.5}", &bad), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "similarity_threshold");
    /* Accessors and frees are NULL-safe. */
    CHECK(fl_resolution_solution(NULL) == NULL);
    CHECK(fl_resolution_confidence(NULL) == 0.0);
    CHECK(fl_resolutions_len(NULL) == 0);
    fl_resolution_free(NULL);
    fl_resolutions_free(NULL);
    fl_resolver_free(NULL);
    /* Still usable after every failure. */
    CHECK_OK(fl_resolver_resolve(r, "no space left on device", NULL, &res));
    CHECK_STR(fl_resolution_solution(res), "expand_disk");
    fl_resolution_free(res);
}

static void test_classifier_stage(FlResolver *r) {
    const char *texts[] = {"Container a was OOMKilled (exit code 137)", "Pod b OOMKilled, memory limit 1Gi",
                           "out of memory: killed process 12", "disk quota exceeded on /var",
                           "no space left on device /dev/sda", "disk full writing /tmp/x",
                           "x509: certificate has expired", "certificate verify failed: expired",
                           "tls certificate expired for api"};
    const char *labels[] = {"increase_memory_limit", "increase_memory_limit", "increase_memory_limit",
                            "expand_disk", "expand_disk", "expand_disk",
                            "renew_tls_certificate", "renew_tls_certificate", "renew_tls_certificate"};
    FlClassifier *c = NULL;
    CHECK_OK(fl_classifier_new(NULL, &c));
    CHECK_STATUS(fl_resolver_set_classifier(r, c), FL_STATUS_NOT_FITTED);
    CHECK_OK(fl_classifier_fit(c, texts, labels, 9, NULL, NULL));
    CHECK_OK(fl_resolver_set_classifier(r, c));
    fl_classifier_free(c); /* the resolver holds its own copy */
    FlResolution *res = NULL;
    CHECK_OK(fl_resolver_resolve(r, "Pod api-7f was OOMKilled (exit code 137)", "classifier", &res));
    CHECK_STR(fl_resolution_method(res), "ml_prediction");
    CHECK_STR(fl_resolution_solution(res), "increase_memory_limit");
    char *json = NULL;
    CHECK_OK(fl_resolution_to_json(res, &json));
    CHECK_CONTAINS(json, "\"predictions\":[{\"label\":\"increase_memory_limit\"");
    fl_string_free(json);
    fl_resolution_free(res);
    CHECK_STATUS(fl_resolver_load_classifier(r, "/nonexistent/clf.flm"), FL_STATUS_IO);
    CHECK_STATUS(fl_resolver_set_classifier(r, NULL), FL_STATUS_NULL_POINTER);
}

/* A text index as the knowledge: by text (TF-IDF), then by the caller's own embeddings. */
static void test_knowledge_index(void) {
    const char *errors[] = {"connection refused to postgres on port 5432", "disk quota exceeded on /var/lib/data",
                            "certificate has expired for api.example.com",
                            "worker timed out waiting for lock on table orders"};
    const char *solutions[] = {"restart_db", "free_disk", "renew_cert", "kill_lock"};
    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new(NULL, &r));
    FlTextIndex *idx = NULL;
    CHECK_OK(fl_text_index_new(NULL, &idx));
    uint64_t *ids = NULL;
    CHECK_OK(fl_text_index_add(idx, errors, 4, solutions, &ids));
    fl_ids_free(ids, 4);
    CHECK_OK(fl_resolver_set_knowledge_index(r, idx));
    fl_text_index_free(idx); /* the resolver holds its own copy */
    size_t size = 0;
    CHECK_OK(fl_resolver_knowledge_size(r, &size));
    CHECK(size == 4);
    bool embedded = true;
    CHECK_OK(fl_resolver_knowledge_is_embedded(r, &embedded));
    CHECK(!embedded);
    FlResolution *res = NULL;
    CHECK_OK(fl_resolver_resolve(r, "connection refused to postgres on port 6543", NULL, &res));
    CHECK_STR(fl_resolution_method(res), "similarity_match");
    CHECK_STR(fl_resolution_solution(res), "restart_db");
    fl_resolution_free(res);

    FlTextIndex *ext = NULL;
    CHECK_OK(fl_text_index_new("{\"embedding\":{\"type\":\"external\",\"dim\":3}}", &ext));
    const float vecs[] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0};
    CHECK_OK(fl_text_index_add_embedded(ext, errors, 4, vecs, 3, solutions, &ids));
    fl_ids_free(ids, 4);
    CHECK_OK(fl_resolver_set_knowledge_index(r, ext));
    fl_text_index_free(ext);
    CHECK_OK(fl_resolver_knowledge_is_embedded(r, &embedded));
    CHECK(embedded);
    const float q[] = {0, 0.1f, 0.99f};
    CHECK_OK(fl_resolver_resolve_embedded(r, "anything", q, 3, NULL, &res));
    CHECK_STR(fl_resolution_solution(res), "renew_cert");
    fl_resolution_free(res);
    CHECK_STATUS(fl_resolver_resolve(r, "anything", NULL, &res), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "resolve_embedded");
    CHECK_STATUS(fl_resolver_resolve_embedded(r, "x", q, 2, NULL, &res), FL_STATUS_DIMENSION);
    const char *new_err[] = {"new"}, *new_sol[] = {"fix_new"};
    const float new_vec[] = {0, -1, 0};
    CHECK_OK(fl_resolver_add_knowledge_embedded(r, new_err, new_sol, 1, new_vec, 3, &size));
    CHECK(size == 5);
    const char *texts[] = {"a", "b"};
    const float both[] = {0, -1, 0, 1, 0, 0};
    FlResolutions *list = NULL;
    CHECK_OK(fl_resolver_resolve_batch_embedded(r, texts, 2, both, 6, NULL, &list));
    CHECK(fl_resolutions_len(list) == 2);
    CHECK_STR(fl_resolution_solution(fl_resolutions_get(list, 0)), "fix_new");
    CHECK_STR(fl_resolution_solution(fl_resolutions_get(list, 1)), "restart_db");
    fl_resolutions_free(list);
    CHECK_STATUS(fl_resolver_set_knowledge_index(r, NULL), FL_STATUS_NULL_POINTER);
    fl_resolver_free(r);
}

/* Abstain on the unknown: with the lines of expected_novelty.h as knowledge and classifier, a line from
 * another system is answered by no stage reliably, flagged novel and counted; a line the base
 * knows is answered reliably. */
static void test_novel_inputs(void) {
    FlClassifier *c = NULL;
    CHECK_OK(fl_classifier_new(NULL, &c));
    CHECK_OK(fl_classifier_fit(c, NOV_TEXTS, NOV_LABELS, NOV_N, NULL, NULL));
    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new("{\"novelty_threshold\": 0.5}", &r));
    CHECK_OK(fl_resolver_add_knowledge(r, NOV_TEXTS, NOV_LABELS, NOV_N, NULL));
    CHECK_OK(fl_resolver_set_classifier(r, c));
    fl_classifier_free(c);

    FlResolution *res = NULL;
    CHECK_OK(fl_resolver_resolve(r, NOV_TEXTS[4], NULL, &res));
    CHECK(fl_resolution_reliable(res));
    CHECK(!fl_resolution_novel(res));
    CHECK_STR(fl_resolution_solution(res), "expand_disk");
    fl_resolution_free(res);

    CHECK_OK(fl_resolver_resolve(r, NOV_FOREIGN, NULL, &res));
    CHECK(!fl_resolution_reliable(res));
    CHECK(fl_resolution_novel(res));
    CHECK(fl_resolution_novelty(res) > 0.5 && fl_resolution_novelty(res) <= 1.0);
    CHECK(fl_resolution_confidence(res) < 0.5);
    char *json = NULL;
    CHECK_OK(fl_resolution_to_json(res, &json));
    CHECK_CONTAINS(json, "\"novel\":true");
    CHECK_NEAR(json_number(json, "novelty"), fl_resolution_novelty(res), 1e-12);
    fl_string_free(json);
    fl_resolution_free(res);

    CHECK_OK(fl_resolver_metrics(r, &json));
    CHECK(json_number(json, "novel") == 1.0);
    CHECK(json_number(json, "unreliable") == 1.0);
    fl_string_free(json);
    char *text = NULL;
    CHECK_OK(fl_resolver_metrics_prometheus(r, &text));
    CHECK_CONTAINS(text, "# TYPE faultlens_novel_inputs_total counter");
    CHECK_CONTAINS(text, "\nfaultlens_novel_inputs_total 1\n");
    fl_string_free(text);
    CHECK_OK(fl_resolver_config(r, &json));
    CHECK_CONTAINS(json, "\"novelty_threshold\":0.5");
    fl_string_free(json);
    fl_resolver_free(r);
    CHECK_STATUS(fl_resolver_new("{\"novelty_threshold\": -0.1}", &r), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "novelty_threshold");
    /* NULL-safe accessors. */
    CHECK(fl_resolution_novelty(NULL) == 0.0);
    CHECK(!fl_resolution_novel(NULL));
}

/* Feedback names the past error that answered, and a failure lowers that answer's confidence. */
static void test_feedback_per_matched_error(void) {
    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new(NULL, &r));
    CHECK_OK(fl_resolver_add_knowledge(r, NOV_TEXTS, NOV_LABELS, NOV_N, NULL));
    const char *text = NOV_VARIANT;
    FlResolution *before = NULL;
    CHECK_OK(fl_resolver_resolve(r, text, "similarity", &before));
    CHECK_STR(fl_resolution_method(before), "similarity_match");
    CHECK_STR(fl_resolution_solution(before), "expand_disk");
    char *json = NULL;
    CHECK_OK(fl_resolution_to_json(before, &json));
    double top_id = json_number(strstr(json, "\"similar\":"), "id");
    double top_sim = json_number(strstr(json, "\"similar\":"), "similarity");
    fl_string_free(json);

    CHECK_OK(fl_resolver_record_outcome(r, text, "expand_disk", false));
    CHECK_OK(fl_resolver_outcomes(r, &json));
    CHECK_CONTAINS(json, "\"method\":\"similarity_match\"");
    CHECK(json_number(json, "matched_id") == top_id);
    CHECK_NEAR(json_number(json, "similarity"), top_sim, 1e-12);
    fl_string_free(json);

    FlResolution *after = NULL;
    CHECK_OK(fl_resolver_resolve(r, text, "similarity", &after));
    CHECK_STR(fl_resolution_solution(after), "expand_disk");
    CHECK(fl_resolution_confidence(after) < fl_resolution_confidence(before));
    fl_resolution_free(before);
    fl_resolution_free(after);

    /* An answer from another stage has no matched error: null in the JSON. */
    CHECK_OK(fl_resolver_set_rules(r, "[{\"pattern\": \"kafka\", \"solution\": \"restart_broker\"}]", NULL));
    FlResolution *res = NULL;
    CHECK_OK(fl_resolver_resolve(r, NOV_FOREIGN, NULL, &res));
    fl_resolution_free(res);
    CHECK_OK(fl_resolver_record_outcome(r, NOV_FOREIGN, "restart_broker", true));
    CHECK_OK(fl_resolver_outcomes(r, &json));
    CHECK_CONTAINS(json, "\"method\":\"exact_match\",\"matched_id\":null,\"similarity\":null");
    fl_string_free(json);
    fl_resolver_free(r);
}

int main(void) {
    test_knowledge_index();
    FlResolver *r = build();
    test_cascade(r);
    test_batch_and_metrics(r);
    test_rules_and_config(r);
    test_round_trips(r);
    test_bad_input(r);
    test_classifier_stage(r);
    fl_resolver_free(r);
    test_novel_inputs();
    test_feedback_per_matched_error();
    return check_finish("test_resolve");
}
