/* fork(): with fl_after_fork registered through pthread_atfork, a child turns parallelism off,
 * makes and uses fresh handles as usual, and a handle another thread of the parent was using at
 * the fork gives FL_STATUS_INHERITED (or, when the fork fell between two of that thread's calls,
 * an answer) within seconds instead of blocking forever. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { ROWS = 2000, CHILD_SECONDS = 20 };

/* Child results, one byte each, sent through a pipe. */
enum { CHILD_ANSWERED = 'k', CHILD_INHERITED = 'i', CHILD_FAILED = 'x' };

/* Waits for the child's byte (at most CHILD_SECONDS: a hang is a failure), then reaps it. */
static char child_result(pid_t pid, int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char got = 0;
    if (poll(&p, 1, CHILD_SECONDS * 1000) != 1 || read(fd, &got, 1) != 1) {
        got = 0; /* no answer in time: the child hung */
        kill(pid, SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    close(fd);
    return got;
}

/* Ends the child without exit handlers or valgrind's leak check: the parent's other thread was
 * copied mid-call, and what it had allocated is not the child's to free. */
static void child_done(int fd, char result) {
    if (write(fd, &result, 1) != 1) {
        _exit(3);
    }
    raise(SIGKILL);
}

static void test_fresh_handle_in_child(void) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char result = CHILD_ANSWERED;
        FlResolver *r = NULL;
        size_t n = 0;
        const char *errors[] = {"disk quota exceeded"};
        const char *solutions[] = {"free space"};
        FlResolution *res = NULL;
        if (fl_parallelism() /* fl_after_fork turned it off */
            || fl_resolver_new(NULL, &r) != FL_STATUS_OK ||
            fl_resolver_add_knowledge(r, errors, solutions, 1, &n) != FL_STATUS_OK || n != 1 ||
            fl_resolver_resolve(r, "disk quota exceeded on /home", "auto", &res) != FL_STATUS_OK) {
            result = CHILD_FAILED;
        }
        fl_resolution_free(res);
        fl_resolver_free(r);
        child_done(fds[1], result);
    }
    close(fds[1]);
    CHECK(pid > 0);
    CHECK(child_result(pid, fds[0]) == CHILD_ANSWERED);
    CHECK(fl_parallelism()); /* the parent is unchanged */
}

struct busy {
    const FlResolver *r;
    const char **errors;
    const char **solutions;
    atomic_int started;
    atomic_int stop;
};

static void *keep_adding(void *arg) {
    struct busy *b = arg;
    while (!atomic_load(&b->stop)) {
        atomic_store(&b->started, 1);
        if (fl_resolver_add_knowledge(b->r, b->errors, b->solutions, ROWS, NULL) != FL_STATUS_OK) {
            break;
        }
    }
    return NULL;
}

static void test_handle_in_use_at_fork(void) {
    static char texts[ROWS][48];
    static const char *errors[ROWS];
    static const char *solutions[ROWS];
    for (int i = 0; i < ROWS; i++) {
        snprintf(texts[i], sizeof texts[i], "worker %d failed: connection %d refused", i, i * 7);
        errors[i] = texts[i];
        solutions[i] = (i % 2) ? "restart the worker" : "check the firewall";
    }
    FlResolver *r = NULL;
    CHECK_OK(fl_resolver_new(NULL, &r));
    struct busy b = {.r = r, .errors = errors, .solutions = solutions};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, keep_adding, &b) == 0);
    while (!atomic_load(&b.started)) {
        sched_yield();
    }
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    nanosleep(&pause, NULL);

    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        size_t n = 0;
        FlStatus st = fl_resolver_knowledge_size(r, &n);
        char result = CHILD_FAILED;
        if (st == FL_STATUS_INHERITED) {
            const char *msg = fl_last_error();
            result = (msg && strstr(msg, "fork")) ? CHILD_INHERITED : CHILD_FAILED;
        } else if (st == FL_STATUS_OK) {
            result = CHILD_ANSWERED; /* forked between two calls: every lock was idle */
        }
        child_done(fds[1], result);
    }
    close(fds[1]);
    CHECK(pid > 0);
    char got = child_result(pid, fds[0]);
    CHECK(got == CHILD_INHERITED || got == CHILD_ANSWERED);
    printf("test_fork: child of a fork during add_knowledge got %s\n",
           got == CHILD_INHERITED ? "FL_STATUS_INHERITED" : (got == CHILD_ANSWERED ? "an answer" : "nothing"));
    atomic_store(&b.stop, 1);
    pthread_join(t, NULL);
    fl_resolver_free(r);
}

int main(void) {
    CHECK(FL_STATUS_INHERITED == 12); /* ABI: never renumbered */
    CHECK(pthread_atfork(NULL, NULL, fl_after_fork) == 0);
    test_fresh_handle_in_child();
    test_handle_in_use_at_fork();
    return check_finish("test_fork");
}
