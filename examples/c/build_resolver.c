/* Builds a resolver from hand-written files and saves it as one model file:
 *   build_resolver RULES(.toml|.json) KNOWLEDGE.jsonl OUT.flm
 * The knowledge base is JSONL of {"error": ..., "solution": ...}. */
#include <stdio.h>
#include <stdlib.h>

#include "faultlens.h"

static int fail(const char *what) {
    fprintf(stderr, "build_resolver: %s: %s\n", what, fl_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s RULES KNOWLEDGE.jsonl OUT.flm\n", argv[0]);
        return 2;
    }
    FlResolver *r = NULL;
    size_t added = 0;
    if (fl_resolver_new(NULL, &r) != FL_STATUS_OK) return fail("new");
    int rc = 0;
    if (fl_resolver_load_rules(r, argv[1]) != FL_STATUS_OK) rc = fail(argv[1]);
    else if (fl_resolver_load_knowledge(r, argv[2], false, &added) != FL_STATUS_OK) rc = fail(argv[2]);
    else if (fl_resolver_save(r, argv[3]) != FL_STATUS_OK) rc = fail(argv[3]);
    else printf("saved %s: %zu known errors\n", argv[3], added);
    fl_resolver_free(r);
    return rc;
}
