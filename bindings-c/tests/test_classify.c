/* FlClassifier from C: the cross-language model file (tests/fixtures/classify/model.flm) gives
 * the probabilities in expected.json, training in C reproduces them, predict_one / evaluate /
 * compare return JSON, progress reaches the callback, bytes round-trip, and bad input fails. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>

#include "check.h"
#include "expected_novelty.h"
#include "expected_classify.h"

#ifndef FL_FIXTURES
#error "compile with -DFL_FIXTURES='\"<repo>/tests/fixtures\"'"
#endif
#define MODEL_PATH FL_FIXTURES "/classify/model.flm"
#define TOL 1e-9

/* 1 when `c` reproduces the expected classes, predictions and probabilities. */
static int matches_expected(const FlClassifier *c) {
    int ok = 1;
    FlStrings *classes = NULL;
    CHECK_OK(fl_classifier_classes(c, &classes));
    ok &= strings_equal(classes, CL_CLASSES, CL_N_CLASSES);
    fl_strings_free(classes);
    FlStrings *pred = NULL;
    CHECK_OK(fl_classifier_predict(c, CL_TEXTS, CL_N_TEXTS, &pred));
    ok &= strings_equal(pred, CL_PREDICT, CL_N_TEXTS);
    fl_strings_free(pred);
    double *p = NULL;
    size_t len = 0;
    CHECK_OK(fl_classifier_predict_proba(c, CL_TEXTS, CL_N_TEXTS, &p, &len));
    ok &= len == (size_t)CL_N_TEXTS * CL_N_CLASSES;
    for (size_t i = 0; ok && i < len; i++) {
        if (fabs(p[i] - CL_PROBA[i]) > TOL) {
            fprintf(stderr, "     proba[%zu] %.17g != %.17g\n", i, p[i], CL_PROBA[i]);
            ok = 0;
        }
    }
    fl_doubles_free(p, len);
    return ok;
}

static void test_shared_model_file(void) {
    FlClassifier *c = NULL;
    CHECK_OK(fl_classifier_load(MODEL_PATH, &c));
    CHECK(matches_expected(c));
    char *model = NULL;
    CHECK_OK(fl_classifier_model(c, &model));
    CHECK_STR(model, "logistic");
    fl_string_free(model);
    fl_classifier_free(c);
}

typedef struct {
    int calls;
    int saw_vectorize;
    int bad;
} Progress;

static void on_progress(const char *stage, size_t done, size_t total, void *user_data) {
    Progress *p = user_data;
    p->calls++;
    if (strcmp(stage, "vectorize") == 0) p->saw_vectorize = 1;
    if (done > total) p->bad = 1;
}

static void test_train_in_c(void) {
    FlClassifier *c = NULL;
    CHECK_OK(fl_classifier_new(NULL, &c));
    bool fitted = true;
    CHECK_OK(fl_classifier_is_fitted(c, &fitted));
    CHECK(!fitted);
    Progress prog = {0, 0, 0};
    CHECK_OK(fl_classifier_fit(c, CL_TRAIN_TEXTS, CL_TRAIN_LABELS, CL_N_TRAIN, on_progress, &prog));
    CHECK(prog.calls > 2 && prog.saw_vectorize && !prog.bad);
    CHECK(matches_expected(c));

    char *json = NULL;
    CHECK_OK(fl_classifier_predict_one(c, "Failed password for invalid user admin from 10.1.2.3 port 22 ssh2", &json));
    CHECK_CONTAINS(json, "\"label\":\"OpenSSH:");
    CHECK_CONTAINS(json, "\"explanation\":[[");
    fl_string_free(json);

    double acc = 0;
    CHECK_OK(fl_classifier_score(c, CL_TEST_TEXTS, CL_TEST_LABELS, CL_N_TEST, &acc));
    CHECK(acc >= 0.9);
    CHECK_OK(fl_evaluate(c, CL_TEST_TEXTS, CL_TEST_LABELS, CL_N_TEST, &json));
    CHECK_CONTAINS(json, "\"macro_f1\":");
    CHECK_CONTAINS(json, "macro avg");
    fl_string_free(json);

    double *base = NULL;
    size_t n_base = 0;
    CHECK_OK(fl_classifier_baseline_confidences(c, &base, &n_base));
    CHECK(n_base > 0 && base[0] >= 0 && base[0] <= 1);
    fl_doubles_free(base, n_base);
    CHECK_OK(fl_classifier_training_info(c, &json));
    CHECK_CONTAINS(json, "\"n_samples\":390");
    fl_string_free(json);

    /* Prediction counters: every row counted, the confidence of predict_one's rows histogrammed. */
    CHECK_OK(fl_classifier_metrics(c, &json));
    CHECK_CONTAINS(json, "\"predictions\":");
    CHECK(json && strstr(json, "\"predictions\":0,") == NULL);
    fl_string_free(json);
    CHECK_OK(fl_classifier_reset_metrics(c));
    CHECK_OK(fl_classifier_predict_one(c, "Failed password for invalid user admin from 10.1.2.3 port 22 ssh2", &json));
    fl_string_free(json);
    CHECK_OK(fl_classifier_metrics(c, &json));
    CHECK_CONTAINS(json, "{\"predictions\":1,");
    CHECK_CONTAINS(json, "\"count\":1,");
    CHECK_CONTAINS(json, "[1.0,1]]");
    fl_string_free(json);
    CHECK_OK(fl_classifier_reset_metrics(c));
    CHECK_OK(fl_classifier_metrics(c, &json));
    CHECK_CONTAINS(json, "{\"predictions\":0,\"novel\":0,\"unreliable\":0,");
    fl_string_free(json);
    CHECK_STATUS(fl_classifier_metrics(NULL, &json), FL_STATUS_NULL_POINTER);
    CHECK_OK(fl_classifier_config(c, &json));
    CHECK_CONTAINS(json, "\"threshold\":0.7");
    fl_string_free(json);

    /* Bytes round trip. */
    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    CHECK_OK(fl_classifier_to_bytes(c, &bytes, &n_bytes));
    FlClassifier *back = NULL;
    CHECK_OK(fl_classifier_from_bytes(bytes, n_bytes, &back));
    CHECK(back && matches_expected(back));
    /* A newer format version is refused with FORMAT. */
    bytes[8] = 9;
    FlClassifier *newer = NULL;
    CHECK_STATUS(fl_classifier_from_bytes(bytes, n_bytes, &newer), FL_STATUS_FORMAT);
    CHECK(newer == NULL);
    fl_bytes_free(bytes, n_bytes);

    /* A weak model for compare: heavy naive-Bayes smoothing. */
    FlClassifier *weak = NULL;
    CHECK_OK(fl_classifier_new("{\"model\":\"naive_bayes\",\"alpha\":50}", &weak));
    CHECK_OK(fl_classifier_fit(weak, CL_TRAIN_TEXTS, CL_TRAIN_LABELS, CL_N_TRAIN, NULL, NULL));
    CHECK_OK(fl_compare(weak, c, CL_TEST_TEXTS, CL_TEST_LABELS, CL_N_TEST, &json));
    CHECK_CONTAINS(json, "\"better\":\"b\"");
    CHECK_CONTAINS(json, "\"p_value\":");
    fl_string_free(json);
    const char *texts[2] = {"session opened for user root", "x"};
    const char *labels[2] = {"New:label", "New:label"};
    CHECK_OK(fl_classifier_partial_fit(weak, texts, labels, 2));
    CHECK_STATUS(fl_classifier_partial_fit(c, texts, labels, 2), FL_STATUS_INVALID_INPUT);
    const char *unseen[1] = {"Nope:E0"};
    CHECK_STATUS(fl_compare(weak, c, CL_TEST_TEXTS, unseen, 1, &json), FL_STATUS_INVALID_INPUT);
    CHECK(json == NULL);

    fl_classifier_free(weak);
    fl_classifier_free(back);
    fl_classifier_free(c);
}


/* Confidence is the probability of being right for the input at hand: a copy of a training line
 * is reliable and not novel; a line from a system the model never saw is novel and unreliable. */
static void test_novelty(void) {
    FlClassifier *c = NULL;
    CHECK_OK(fl_classifier_new("{\"novelty_prior\": 0.2, \"novelty_threshold\": 0.5}", &c));
    CHECK_OK(fl_classifier_fit(c, NOV_TEXTS, NOV_LABELS, NOV_N, NULL, NULL));
    char *json = NULL;
    CHECK_OK(fl_classifier_predict_one(c, NOV_TEXTS[4], &json));
    CHECK_CONTAINS(json, "\"label\":\"expand_disk\"");
    CHECK_CONTAINS(json, "\"reliable\":true");
    CHECK_CONTAINS(json, "\"novel\":false");
    CHECK(json_number(json, "novelty") < 0.5);
    fl_string_free(json);

    CHECK_OK(fl_classifier_predict_one(c, NOV_FOREIGN, &json));
    CHECK_CONTAINS(json, "\"reliable\":false");
    CHECK_CONTAINS(json, "\"novel\":true");
    CHECK(json_number(json, "confidence") < 0.5);
    CHECK(json_number(json, "novelty") > 0.5);
    fl_string_free(json);

    CHECK_OK(fl_classifier_config(c, &json));
    CHECK_CONTAINS(json, "\"novelty_prior\":0.2");
    CHECK_CONTAINS(json, "\"novelty_threshold\":0.5");
    fl_string_free(json);
    fl_classifier_free(c);

    /* Out-of-range novelty options name the field. */
    CHECK_STATUS(fl_classifier_new("{\"novelty_prior\": 1.0}", &c), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "novelty_prior");
    CHECK_STATUS(fl_classifier_new("{\"novelty_threshold\": 1.5}", &c), FL_STATUS_INVALID_CONFIG);
    CHECK_CONTAINS(fl_last_error(), "novelty_threshold");
}

static void test_bad_input(void) {
    FlClassifier *c = NULL;
    CHECK_STATUS(fl_classifier_new("{\"model\":\"forest\"}", &c), FL_STATUS_INVALID_CONFIG);
    CHECK_STATUS(fl_classifier_new("{\"threshold\":3}", &c), FL_STATUS_INVALID_CONFIG);
    CHECK_OK(fl_classifier_new("{\"model\":\"auto\",\"cv_folds\":3}", &c));
    FlStrings *out = NULL;
    CHECK_STATUS(fl_classifier_predict(c, CL_TEXTS, 1, &out), FL_STATUS_NOT_FITTED);
    const char *one_class[2] = {"a", "a"};
    CHECK_STATUS(fl_classifier_fit(c, CL_TEXTS, one_class, 2, NULL, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "only one class");
    const char *empty[2] = {"a", ""};
    CHECK_STATUS(fl_classifier_fit(c, CL_TEXTS, empty, 2, NULL, NULL), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_classifier_fit(c, CL_TEXTS, NULL, 2, NULL, NULL), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_classifier_fit(NULL, CL_TEXTS, one_class, 2, NULL, NULL), FL_STATUS_NULL_POINTER);
    char *json = NULL;
    CHECK_STATUS(fl_classifier_predict_one(c, "\xff\xfe", &json), FL_STATUS_INVALID_UTF8);
    fl_classifier_free(c);
    CHECK_STATUS(fl_classifier_load(FL_FIXTURES "/classify/missing.flm", &c), FL_STATUS_IO);
    CHECK(c == NULL);
}

int main(void) {
    test_shared_model_file();
    test_train_in_c();
    test_novelty();
    test_bad_input();
    return check_finish("test_classify");
}
