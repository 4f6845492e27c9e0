/* Tests for src/exec/process.c, with real child processes (/bin/sh scripts). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec/process.h"
#include "util/timeutil.h"

/* Every wait in here is bounded by this; a passing run takes far less. */
enum { DEADLINE_MS = 10000 };

typedef struct captured {
    char *out, *err, *prog;
    size_t out_len, err_len, prog_len;
} captured_t;

static void append(char **b, size_t *len, const char *d, size_t n)
{
    *b = realloc(*b, *len + n + 1);
    assert_non_null(*b);
    memcpy(*b + *len, d, n);
    *len += n;
    (*b)[*len] = '\0';
}

/* Reads one ready fd; closes it (and sets -1) at EOF. */
static void drain(int *fd, char **b, size_t *len)
{
    char buf[65536];
    for (;;) {
        ssize_t r = read(*fd, buf, sizeof(buf));
        if (r > 0) {
            append(b, len, buf, (size_t)r);
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(*fd);
        *fd = -1;
        return;
    }
}

/* Polls the child's pipes until all are at EOF and it has exited, driving proc_check_kill. */
static void run_to_end(proc_t *p, captured_t *c)
{
    int64_t deadline = time_mono_ms() + DEADLINE_MS;
    for (;;) {
        struct pollfd pf[3];
        int *fds[3] = {&p->out_fd, &p->err_fd, &p->progress_fd};
        char **bufs[3] = {&c->out, &c->err, &c->prog};
        size_t *lens[3] = {&c->out_len, &c->err_len, &c->prog_len};
        int map[3], n = 0;
        for (int i = 0; i < 3; i++) {
            if (*fds[i] >= 0) {
                pf[n].fd = *fds[i];
                pf[n].events = POLLIN;
                pf[n].revents = 0;
                map[n++] = i;
            }
        }
        if (n == 0 && proc_reap(p))
            return;
        if (time_mono_ms() > deadline)
            fail_msg("child %d did not finish in time", (int)p->pid);
        proc_check_kill(p);
        if (n == 0) {
            poll(NULL, 0, 5);
            continue;
        }
        int r = poll(pf, (nfds_t)n, 20);
        assert_true(r >= 0 || errno == EINTR);
        for (int i = 0; i < n; i++)
            if (pf[i].revents != 0)
                drain(fds[map[i]], bufs[map[i]], lens[map[i]]);
    }
}

static void captured_release(captured_t *c)
{
    free(c->out);
    free(c->err);
    free(c->prog);
    memset(c, 0, sizeof(*c));
}

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

/* Runs `sh -c script` to its end; returns the wait status. */
static int run_sh(const char *script, const proc_spec_t *base, captured_t *c)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    proc_spec_t spec = {.argv = argv, .progress_fd = 3};
    if (base != NULL) {
        spec = *base;
        spec.argv = argv;
    }
    proc_t p;
    char err[256];
    if (proc_start(&spec, &p, err, sizeof(err)) != 0)
        fail_msg("proc_start: %s", err);
    run_to_end(&p, c);
    proc_close(&p);
    return p.status;
}

static void test_exit_codes(void **state)
{
    (void)state;
    static const int codes[] = {0, 1, 3, 127, 255};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char script[32];
        snprintf(script, sizeof(script), "exit %d", codes[i]);
        captured_t c = {0};
        int st = run_sh(script, NULL, &c);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), codes[i]);
        captured_release(&c);
    }
    /* terminating a child that already exited and was reaped is harmless */
    char *argv[] = {"/bin/sh", "-c", "exit 0", NULL};
    proc_spec_t spec = {.argv = argv, .progress_fd = 3};
    proc_t p;
    char err[256];
    captured_t c = {0};
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), 0);
    run_to_end(&p, &c);
    proc_terminate(&p, 0);
    proc_check_kill(&p);
    assert_int_equal(p.kill_at_ms, 0);
    assert_int_equal(proc_reap(&p), 1);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    proc_close(&p);
    captured_release(&c);

    int st = run_sh("kill -USR1 $$", NULL, &c);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGUSR1);
    captured_release(&c);
}

static void test_streams_separate_and_merged(void **state)
{
    (void)state;
    const char *script = "echo out1; echo err1 >&2; echo '{\"step\":\"x\"}' >&3; echo out2; echo err2 >&2";
    captured_t c = {0};
    int st = run_sh(script, NULL, &c);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(str(c.out), "out1\nout2\n");
    assert_string_equal(str(c.err), "err1\nerr2\n");
    assert_string_equal(str(c.prog), "{\"step\":\"x\"}\n");
    captured_release(&c);

    /* merged: one ordered log, no err pipe */
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    proc_spec_t spec = {.argv = argv, .progress_fd = 3, .merge_stderr = 1};
    proc_t p;
    char err[256];
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), 0);
    assert_int_equal(p.err_fd, -1);
    run_to_end(&p, &c);
    proc_close(&p);
    assert_string_equal(str(c.out), "out1\nerr1\nout2\nerr2\n");
    assert_string_equal(str(c.prog), "{\"step\":\"x\"}\n");
    captured_release(&c);

    /* another progress fd number: the fds below it (but stdio) are closed */
    spec.merge_stderr = 0;
    spec.progress_fd = 5;
    st = run_sh("echo p >&5; for fd in 3 4 6; do (echo x >&$fd) 2>/dev/null && echo open $fd; done; echo end", &spec,
                &c);
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_string_equal(str(c.out), "end\n");
    assert_string_equal(str(c.prog), "p\n");
    captured_release(&c);

    /* no progress pipe: fd 3 is closed in the child */
    spec.merge_stderr = 0;
    spec.progress_fd = -1;
    st = run_sh("if echo x >&3; then echo open; else echo closed; fi 2>/dev/null", &spec, &c);
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_string_equal(str(c.out), "closed\n");
    captured_release(&c);
}

static void test_fds_nonblocking_cloexec(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", "exit 0", NULL};
    proc_spec_t spec = {.argv = argv, .progress_fd = 3};
    proc_t p;
    char err[256];
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), 0);
    int fds[] = {p.out_fd, p.err_fd, p.progress_fd};
    for (int i = 0; i < 3; i++) {
        assert_true(fds[i] >= 0);
        assert_true(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
    }
    captured_t c = {0};
    run_to_end(&p, &c);
    proc_close(&p);
    proc_close(&p); /* twice is harmless */
    captured_release(&c);
}

static void test_env_and_workdir(void **state)
{
    (void)state;
    setenv("SYNCRUN_TEST_INHERITED", "from-parent", 1);
    setenv("SYNCRUN_TEST_OVERRIDE", "old", 1);
    char *env[] = {"SYNCRUN_TEST_OVERRIDE=new", "SYNCRUN_TEST_EXTRA=a=b c", NULL};
    proc_spec_t spec = {.workdir = "/tmp", .env = env, .progress_fd = 3};
    captured_t c = {0};
    int st = run_sh("echo \"$SYNCRUN_TEST_INHERITED|$SYNCRUN_TEST_OVERRIDE|$SYNCRUN_TEST_EXTRA\"; "
                    "env | grep -c '^SYNCRUN_TEST_OVERRIDE='; pwd -P",
                    &spec, &c);
    assert_int_equal(WEXITSTATUS(st), 0);
    char want[256];
    char tmp[200];
    assert_non_null(realpath("/tmp", tmp));
    snprintf(want, sizeof(want), "from-parent|new|a=b c\n1\n%s\n", tmp);
    assert_string_equal(str(c.out), want);
    captured_release(&c);
    unsetenv("SYNCRUN_TEST_INHERITED");
    unsetenv("SYNCRUN_TEST_OVERRIDE");

    /* the parent's signal state is not inherited: SIGPIPE ignored + SIGUSR2 blocked here */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &old);
    void (*prev)(int) = signal(SIGPIPE, SIG_IGN);
    st = run_sh("grep -E '^(SigBlk|SigIgn)' /proc/self/status", NULL, &c);
    signal(SIGPIPE, prev);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_non_null(strstr(str(c.out), "SigBlk:\t0000000000000000\n"));
    /* glibc's posix_spawn leaves its two internal signals (32, 33) ignored; all others default */
    const char *ign = strstr(str(c.out), "SigIgn:\t");
    assert_non_null(ign);
    unsigned long long ignored = strtoull(ign + 8, NULL, 16);
    assert_int_equal(ignored & ~(3ULL << 31), 0);
    captured_release(&c);

    /* stdin is /dev/null */
    st = run_sh("cat; readlink /proc/self/fd/0", NULL, &c);
    assert_string_equal(str(c.out), "/dev/null\n");
    captured_release(&c);
}

static int count_open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void test_start_failures(void **state)
{
    (void)state;
    int fds_before = count_open_fds();
    proc_t p;
    char err[256];
    char *missing[] = {"syncrun-no-such-command-xyz", NULL};
    proc_spec_t spec = {.argv = missing, .progress_fd = 3};
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "syncrun-no-such-command-xyz"));
    assert_non_null(strstr(err, "not found"));
    assert_int_equal(p.out_fd, -1);

    char *abs_missing[] = {"/nonexistent/bin/tool", NULL};
    spec.argv = abs_missing;
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));

    char *not_exec[] = {"/etc/passwd", NULL};
    spec.argv = not_exec;
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Permission denied"));

    char *ok[] = {"true", NULL}; /* found in PATH */
    spec.argv = ok;
    spec.workdir = "/nonexistent-dir";
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "workdir '/nonexistent-dir'"));
    spec.workdir = "/etc/passwd";
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a directory"));
    spec.workdir = NULL;

    char *bad_env[] = {"NOEQUALS", NULL};
    spec.env = bad_env;
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "NAME=value"));
    spec.env = NULL;

    spec.progress_fd = 1;
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "progress fd"));

    char *empty[] = {NULL};
    spec.argv = empty;
    spec.progress_fd = 3;
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), -1);
    assert_int_equal(count_open_fds(), fds_before); /* failures leave no pipe behind */

    /* found in PATH and run */
    spec.argv = ok;
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), 0);
    captured_t c = {0};
    run_to_end(&p, &c);
    proc_close(&p);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    captured_release(&c);
    assert_int_equal(count_open_fds(), fds_before);
}

/* Reads the child's stdout until `want` appears (the child is ready). */
static void wait_for_output(proc_t *p, captured_t *c, const char *want)
{
    int64_t deadline = time_mono_ms() + DEADLINE_MS;
    while (c->out == NULL || strstr(c->out, want) == NULL) {
        if (time_mono_ms() > deadline || p->out_fd < 0)
            fail_msg("no '%s' from the child", want);
        struct pollfd pf = {.fd = p->out_fd, .events = POLLIN};
        poll(&pf, 1, 50);
        drain(&p->out_fd, &c->out, &c->out_len);
    }
}

static int pid_alive(pid_t pid)
{
    return kill(pid, 0) == 0;
}

static void test_terminate(void **state)
{
    (void)state;
    /* a plain child dies of SIGTERM; a grandchild in the group dies with it */
    char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; echo ready; wait", NULL};
    proc_spec_t spec = {.argv = argv, .progress_fd = 3};
    proc_t p;
    char err[256];
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), 0);
    assert_int_equal(getpgid(p.pid), p.pid);
    captured_t c = {0};
    wait_for_output(&p, &c, "ready\n");
    pid_t grandchild = (pid_t)strtol(c.out, NULL, 10);
    assert_true(grandchild > 0);
    assert_int_equal(getpgid(grandchild), p.pid);
    int64_t t0 = time_mono_ms();
    proc_terminate(&p, 5000);
    assert_true(p.kill_at_ms > 0);
    run_to_end(&p, &c);
    proc_close(&p);
    assert_true(time_mono_ms() - t0 < 2000); /* no SIGKILL needed */
    assert_true(WIFSIGNALED(p.status));
    assert_int_equal(WTERMSIG(p.status), SIGTERM);
    /* the grandchild is not ours to reap: it is gone or a zombie for init; either way not running */
    int64_t deadline = time_mono_ms() + DEADLINE_MS;
    while (pid_alive(grandchild) && getpgid(grandchild) == p.pid) {
        char path[64], buf[512] = "";
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)grandchild);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            size_t r = fread(buf, 1, sizeof(buf) - 1, f);
            buf[r] = '\0';
            fclose(f);
        }
        char *rp = strrchr(buf, ')');
        if (rp != NULL && rp[1] == ' ' && rp[2] == 'Z')
            break;
        if (time_mono_ms() > deadline)
            fail_msg("grandchild %d survived its group's SIGTERM", (int)grandchild);
        poll(NULL, 0, 5);
    }
    captured_release(&c);
}

static void test_terminate_escalates_to_kill(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", "trap 'echo got-term' TERM; echo ready; while :; do sleep 0.05; done", NULL};
    proc_spec_t spec = {.argv = argv, .progress_fd = 3};
    proc_t p;
    char err[256];
    assert_int_equal(proc_start(&spec, &p, err, sizeof(err)), 0);
    captured_t c = {0};
    wait_for_output(&p, &c, "ready\n");
    int64_t t0 = time_mono_ms();
    proc_terminate(&p, 200);
    proc_check_kill(&p); /* too early: nothing */
    assert_true(p.kill_at_ms > 0);
    run_to_end(&p, &c);
    proc_close(&p);
    int64_t took = time_mono_ms() - t0;
    assert_true(took >= 200);
    assert_true(took < 3000);
    assert_true(WIFSIGNALED(p.status));
    assert_int_equal(WTERMSIG(p.status), SIGKILL);
    assert_non_null(strstr(str(c.out), "got-term"));
    assert_int_equal(p.kill_at_ms, 0);
    captured_release(&c);
}

static void test_no_fd_leaks(void **state)
{
    (void)state;
    /* a plain fd (no CLOEXEC), a CLOEXEC one and a high one, all on a file only this test opens */
    char path[] = "/tmp/syncrun-test-fd-XXXXXX";
    int plain = mkstemp(path);
    assert_true(plain >= 0);
    int cloexec = open(path, O_RDONLY | O_CLOEXEC);
    int high = fcntl(plain, F_DUPFD, 50);
    assert_true(cloexec >= 0 && high >= 50);
    captured_t c = {0};
    /* ls itself opens one fd for the directory it lists: 0 1 2 3 and that one */
    int st = run_sh("ls /proc/self/fd | wc -l; ls -l /proc/$$/fd", NULL, &c);
    assert_int_equal(WEXITSTATUS(st), 0);
    if (strncmp(str(c.out), "5\n", 2) != 0)
        fail_msg("fds in the child:\n%s", str(c.out));
    if (strstr(str(c.out), path) != NULL)
        fail_msg("the child sees the parent's file %s:\n%s", path, c.out);
    assert_non_null(strstr(str(c.out), "pipe:")); /* the listing did run */
    captured_release(&c);
    close(plain);
    close(cloexec);
    close(high);
    unlink(path);
}

static void test_large_output(void **state)
{
    (void)state;
    /* 10 MB on stdout and some on stderr at once: the pipes must be drained concurrently */
    captured_t c = {0};
    int st = run_sh("head -c 10485760 /dev/zero; head -c 100000 /dev/zero >&2; echo done >&3", NULL, &c);
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(c.out_len, 10485760);
    assert_int_equal(c.err_len, 100000);
    assert_string_equal(str(c.prog), "done\n");
    captured_release(&c);
}

static void test_describe_status(void **state)
{
    (void)state;
    char buf[128];
    proc_describe_status(3 << 8, buf, sizeof(buf));
    assert_string_equal(buf, "exited with code 3");
    proc_describe_status(0, buf, sizeof(buf));
    assert_string_equal(buf, "exited with code 0");
    proc_describe_status(SIGKILL, buf, sizeof(buf));
    assert_string_equal(buf, "killed by signal 9 (Killed)");
    proc_describe_status(SIGSEGV | 0x80, buf, sizeof(buf));
    assert_string_equal(buf, "killed by signal 11 (Segmentation fault), core dumped");
    proc_describe_status(-1, buf, sizeof(buf));
    assert_string_equal(buf, "exit status unknown");
    char tiny[6];
    proc_describe_status(SIGKILL, tiny, sizeof(tiny));
    assert_string_equal(tiny, "kille");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_streams_separate_and_merged),
        cmocka_unit_test(test_fds_nonblocking_cloexec),
        cmocka_unit_test(test_env_and_workdir),
        cmocka_unit_test(test_start_failures),
        cmocka_unit_test(test_terminate),
        cmocka_unit_test(test_terminate_escalates_to_kill),
        cmocka_unit_test(test_no_fd_leaks),
        cmocka_unit_test(test_large_output),
        cmocka_unit_test(test_describe_status),
    };
    return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}
