/* Loads a saved resolver and resolves each line of stdin, printing one tab-separated line per
 * input: method, confidence, solution (or "-"), microseconds.
 *   resolve_stdin MODEL.flm [auto|rules|similarity|classifier] < errors.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultlens.h"

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MODEL.flm [method] < lines\n", argv[0]);
        return 2;
    }
    const char *method = argc == 3 ? argv[2] : "auto";
    FlResolver *r = NULL;
    if (fl_resolver_load(argv[1], &r) != FL_STATUS_OK) {
        fprintf(stderr, "resolve_stdin: %s: %s\n", argv[1], fl_last_error());
        return 1;
    }
    char line[65536];
    int failures = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0') continue;
        FlResolution *res = NULL;
        if (fl_resolver_resolve(r, line, method, &res) != FL_STATUS_OK) {
            fprintf(stderr, "resolve_stdin: %s\n", fl_last_error());
            failures++;
            continue;
        }
        const char *solution = fl_resolution_solution(res);
        printf("%s\t%.3f\t%s\t%llu\n", fl_resolution_method(res), fl_resolution_confidence(res),
               solution ? solution : "-", (unsigned long long)fl_resolution_elapsed_us(res));
        fl_resolution_free(res);
    }
    fl_resolver_free(r);
    return failures ? 1 : 0;
}
