/* metrics_prometheus of every object kind from C, and fl_merge_prometheus serving several as one
 * scrape. The families and values themselves are tested in Rust (and against the Python and Node
 * collectors); here: each call returns owned text with a known family line. */
#include <stdbool.h>
#include <stdint.h>

#include "check.h"

/* Counts the lines of `text` that start with `prefix`. */
static int count_lines(const char *text, const char *prefix) {
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        if (strncmp(line, prefix, len) == 0) n++;
    return n;
}

int main(void) {
    char *text = NULL;

    FlClassifier *c = NULL;
    CHECK_OK(fl_classifier_new(NULL, &c));
    const char *texts[] = {"disk full on vol1", "disk full on vol2", "disk full on vol3",
                           "connection refused db1", "connection refused db2", "connection refused db3"};
    const char *labels[] = {"disk", "disk", "disk", "net", "net", "net"};
    CHECK_OK(fl_classifier_fit(c, texts, labels, 6, NULL, NULL));
    CHECK_OK(fl_classifier_metrics_prometheus(c, &text));
    CHECK_CONTAINS(text, "# TYPE faultlens_classifier_predictions_total counter\n");
    CHECK_CONTAINS(text, "\nfaultlens_classifier_confidence_bucket{le=\"+Inf\"} 0\n");
    fl_string_free(text);

    FlWindow *w = NULL;
    CHECK_OK(fl_window_new("{\"threshold\":2,\"window_ms\":1000,\"allowed_lateness_ms\":0}", &w));
    FlEvent events[] = {{1000, "api", "/pay", "E1", "boom", NULL}, {1100, "api", "/pay", "E1", "boom", NULL}};
    FlWindowResult *res = NULL;
    CHECK_OK(fl_window_push_batch(w, events, 2, &res));
    fl_window_result_free(res);
    char *window_text = NULL;
    CHECK_OK(fl_window_metrics_prometheus(w, &window_text));
    CHECK_CONTAINS(window_text, "\nfaultlens_window_events_total 2\n");
    CHECK_CONTAINS(window_text, "# HELP faultlens_window_watermark_ms Current watermark (event time, ms).\n");

    FlGrouper *g = NULL;
    CHECK_OK(fl_grouper_new(NULL, &g));
    FlGroupInput incidents[] = {{"a", 1, "disk full", NULL, 0}, {"b", 2, "timeout calling payments", NULL, 0}};
    char *json = NULL;
    CHECK_OK(fl_grouper_add(g, incidents, 2, &json));
    fl_string_free(json);
    CHECK_OK(fl_grouper_metrics_prometheus(g, &text));
    CHECK_CONTAINS(text, "\nfaultlens_incident_grouper_incidents 2\n");
    fl_string_free(text);

    FlIndex *idx = NULL;
    CHECK_OK(fl_index_new("{\"dim\":2}", &idx));
    const uint64_t ids[] = {1, 2};
    const float vectors[] = {1, 0, 0, 1};
    CHECK_OK(fl_index_add(idx, ids, vectors, 2, 2, NULL));
    CHECK_OK(fl_index_metrics_prometheus(idx, &text));
    CHECK_CONTAINS(text, "# TYPE faultlens_index_items gauge\nfaultlens_index_items 2\n");
    CHECK_CONTAINS(text, "# TYPE faultlens_index_ef gauge\n");
    fl_string_free(text);

    FlTextIndex *ti = NULL;
    CHECK_OK(fl_text_index_new(NULL, &ti));
    uint64_t *new_ids = NULL;
    CHECK_OK(fl_text_index_add(ti, texts, 3, NULL, &new_ids));
    fl_ids_free(new_ids, 3);
    CHECK_OK(fl_text_index_metrics_prometheus(ti, &text));
    CHECK_CONTAINS(text, "\nfaultlens_index_added_total 3\n");
    CHECK(strstr(text, "faultlens_index_ef") == NULL);
    fl_string_free(text);

    FlKlDrift *d = NULL;
    CHECK_OK(fl_kl_drift_new("{\"window\":100}", &d));
    CHECK_STATUS(fl_kl_drift_metrics_prometheus(d, &text), FL_STATUS_NOT_FITTED);
    CHECK(text == NULL);
    double baseline[1000];
    for (int i = 0; i < 1000; i++) baseline[i] = i / 1000.0;
    CHECK_OK(fl_kl_drift_set_baseline(d, baseline, 1000));
    CHECK_OK(fl_kl_drift_metrics_prometheus(d, &text));
    CHECK_CONTAINS(text, "\nfaultlens_drift_level{level=\"filling\"} 1\n");
    CHECK_CONTAINS(text, "\nfaultlens_drift_scores_total 0\n");
    fl_string_free(text);

    FlAdwin *a = NULL;
    CHECK_OK(fl_adwin_new(NULL, &a));
    bool drift = false;
    int update_failures = 0;
    for (int i = 0; i < 2000; i++) update_failures += fl_adwin_update(a, i < 1000 ? 0.0 : 1.0, &drift) != FL_STATUS_OK;
    CHECK(update_failures == 0);
    char *adwin_text = NULL;
    CHECK_OK(fl_adwin_metrics_prometheus(a, &adwin_text));
    CHECK_CONTAINS(adwin_text, "# TYPE faultlens_drift_detections_total counter\n");
    FlPageHinkley *p = NULL;
    CHECK_OK(fl_page_hinkley_new(NULL, &p));
    char *ph_text = NULL;
    CHECK_OK(fl_page_hinkley_metrics_prometheus(p, &ph_text));
    CHECK_CONTAINS(ph_text, "\nfaultlens_drift_detections_total 0\n");

    /* Two detectors of a kind family: one HELP/TYPE block, samples labelled by name. */
    const char *names[] = {"latency", "errors \"5xx\""};
    const char *parts[] = {adwin_text, ph_text};
    CHECK_OK(fl_merge_prometheus(names, parts, 2, &text));
    CHECK(count_lines(text, "# TYPE faultlens_drift_detections_total") == 1);
    CHECK_CONTAINS(text, "\nfaultlens_drift_detections_total{name=\"errors \\\"5xx\\\"\"} 0\n");
    CHECK_CONTAINS(text, "\nfaultlens_drift_detected{name=\"latency\"} ");
    fl_string_free(text);
    const char *same[] = {"x", "x"};
    CHECK_STATUS(fl_merge_prometheus(same, parts, 2, &text), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "`x` is given twice");
    const char *one[] = {"x"};
    const char *bad[] = {"faultlens_x{le=\"1} 2\n"};
    CHECK_STATUS(fl_merge_prometheus(one, bad, 1, &text), FL_STATUS_INVALID_INPUT);
    CHECK_STATUS(fl_merge_prometheus(NULL, parts, 2, &text), FL_STATUS_NULL_POINTER);
    CHECK_OK(fl_merge_prometheus(NULL, NULL, 0, &text));
    CHECK_STR(text, "");
    fl_string_free(text);
    const char *pair_names[] = {"proactive"};
    const char *pair_texts[] = {window_text};
    CHECK_OK(fl_merge_prometheus(pair_names, pair_texts, 1, &text));
    CHECK_CONTAINS(text, "\nfaultlens_window_events_total{name=\"proactive\"} 2\n");
    fl_string_free(text);
    CHECK_STATUS(fl_window_metrics_prometheus(NULL, &text), FL_STATUS_NULL_POINTER);
    CHECK_STATUS(fl_window_metrics_prometheus(w, NULL), FL_STATUS_NULL_POINTER);

    fl_string_free(window_text);
    fl_string_free(adwin_text);
    fl_string_free(ph_text);
    fl_classifier_free(c);
    fl_window_free(w);
    fl_grouper_free(g);
    fl_index_free(idx);
    fl_text_index_free(ti);
    fl_kl_drift_free(d);
    fl_adwin_free(a);
    fl_page_hinkley_free(p);
    return check_finish("test_metrics");
}
