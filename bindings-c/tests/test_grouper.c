/* FlGrouper from C: text and embedding inputs, stable ids across calls, renames, errors that add
 * nothing, save/load. The grouping rule itself is property-tested in Rust (tests/window.rs). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static void test_groups_and_renames(void) {
    FlGrouper *g = NULL;
    CHECK_OK(fl_grouper_new("{\"min_similarity\":0.5}", &g));
    const float e1[3] = {1, 0, 0}, e2[3] = {0.9f, 0.1f, 0}, e3[3] = {0, 1, 0};
    FlGroupInput first[] = {
        {"inc-b", 20, "connection refused to db-1 port 5432", NULL, 0},
        {"inc-c", 30, NULL, e3, 3},
        {"inc-d", 40, "disk quota exceeded on /var/lib", e1, 3},
    };
    char *json = NULL;
    CHECK_OK(fl_grouper_add(g, first, 3, &json));
    CHECK_CONTAINS(json, "\"new_group\":true");
    fl_string_free(json);
    /* Earlier than inc-b and similar to it: inc-b's group is renamed to inc-a. */
    FlGroupInput second[] = {{"inc-a", 10, "connection refused to db-9 port 5432", NULL, 0}};
    CHECK_OK(fl_grouper_add(g, second, 1, &json));
    CHECK_CONTAINS(json, "\"renamed\":[{\"from\":\"inc-b\",\"to\":\"inc-a\"}]");
    fl_string_free(json);
    char *group = NULL;
    CHECK_OK(fl_grouper_group_of(g, "inc-b", &group));
    CHECK_STR(group, "inc-a");
    fl_string_free(group);
    CHECK_OK(fl_grouper_group_of(g, "nope", &group));
    CHECK(group == NULL);
    /* Embedding only: close to inc-d's embedding. */
    FlGroupInput third[] = {{"inc-e", 50, NULL, e2, 3}};
    CHECK_OK(fl_grouper_add(g, third, 1, &json));
    CHECK_CONTAINS(json, "\"group\":\"inc-d\"");
    fl_string_free(json);
    double sim = 0;
    CHECK_OK(fl_grouper_similarity(g, "inc-d", "inc-e", &sim));
    CHECK(sim > 0.9 && sim <= 1.0);
    CHECK_OK(fl_grouper_similarity(g, "inc-d", "nope", &sim));
    CHECK(isnan(sim));
    size_t n = 0;
    CHECK_OK(fl_grouper_len(g, &n));
    CHECK(n == 5);

    /* Errors add nothing: repeated id, another dimension, NULL id. */
    FlGroupInput bad_dim[] = {{"inc-f", 60, NULL, e1, 2}};
    CHECK_STATUS(fl_grouper_add(g, bad_dim, 1, &json), FL_STATUS_DIMENSION);
    FlGroupInput again[] = {{"inc-a", 60, "x", NULL, 0}};
    CHECK_STATUS(fl_grouper_add(g, again, 1, &json), FL_STATUS_INVALID_INPUT);
    CHECK_CONTAINS(fl_last_error(), "inc-a");
    FlGroupInput no_id[] = {{NULL, 60, "x", NULL, 0}};
    CHECK_STATUS(fl_grouper_add(g, no_id, 1, &json), FL_STATUS_NULL_POINTER);
    CHECK_OK(fl_grouper_len(g, &n));
    CHECK(n == 5);
    FlGrouper *bad = NULL;
    CHECK_STATUS(fl_grouper_new("{\"text_weight\":2}", &bad), FL_STATUS_INVALID_CONFIG);
    CHECK(bad == NULL);

    /* Save/load keeps every group. */
    char path[] = "/tmp/faultlens-grouper-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(fl_grouper_save(g, path));
    FlGrouper *back = NULL;
    CHECK_OK(fl_grouper_load(path, &back));
    char *a = NULL, *b = NULL;
    CHECK_OK(fl_grouper_groups(g, &a));
    CHECK_OK(fl_grouper_groups(back, &b));
    CHECK_STR(a, b);
    CHECK_CONTAINS(a, "{\"id\":\"inc-a\",\"members\":[\"inc-a\",\"inc-b\"]}");
    fl_string_free(a);
    fl_string_free(b);
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_OK(fl_grouper_to_bytes(back, &bytes, &len));
    FlGrouper *copy = NULL;
    CHECK_OK(fl_grouper_from_bytes(bytes, len, &copy));
    FlGrouper *broken = NULL;
    CHECK_STATUS(fl_grouper_from_bytes(bytes, len / 2, &broken), FL_STATUS_CORRUPT);
    CHECK(broken == NULL);
    fl_bytes_free(bytes, len);
    CHECK_OK(fl_grouper_config(copy, &a));
    CHECK_CONTAINS(a, "\"min_similarity\":0.5");
    fl_string_free(a);
    unlink(path);
    CHECK_OK(fl_grouper_free(copy));
    CHECK_OK(fl_grouper_free(back));
    CHECK_OK(fl_grouper_free(g));
    CHECK_OK(fl_grouper_free(NULL));
}

int main(void) {
    test_groups_and_renames();
    return check_finish("test_grouper");
}
