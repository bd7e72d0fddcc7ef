/*
 * The configuration file's syntax (util/config_file.h): pairs in order, blanks and
 * comments, and every refusal with its line number.
 */
#include <string.h>

#include "util/config_file.h"
#include "unit.h"

typedef struct seen {
    char text[1024];
    int stop_at;        /* refuse the pair with this index (0: none) */
    int n;
} seen;

static int collect(void *arg, const char *key, const char *value, char *err, size_t n)
{
    seen *s = arg;
    size_t used = strlen(s->text);

    if (++s->n == s->stop_at) {
        snprintf(err, n, "no %s", key);
        return -1;
    }
    snprintf(s->text + used, sizeof s->text - used, "[%s=%s]", key, value);
    return 0;
}

/* Parses a copy of text; returns the parse's result, the pairs in s, the error in err. */
static int parse(const char *text, seen *s, char *err, size_t n)
{
    char buf[8192];
    size_t len = strlen(text);

    memset(s, 0, sizeof *s);
    memcpy(buf, text, len + 1);
    err[0] = '\0';
    return config_file_parse(buf, len, collect, s, err, n);
}

static void pairs_in_order(void)
{
    seen s;
    char err[256];

    CHECK(parse("listen = 0.0.0.0:8080\n"
                "  # a comment line\n"
                "\n"
                "db=/var/lib/konsil/konsil.db   # where the data lives\n"
                "\tmax-body\t=\t1M\r\n"
                "web = /usr/share/konsil/web#not a comment\n"
                "public-origin = https://konsil.example", &s, err, sizeof err) == 0);
    CHECK_STR(s.text, "[listen=0.0.0.0:8080][db=/var/lib/konsil/konsil.db][max-body=1M]"
                      "[web=/usr/share/konsil/web#not a comment]"
                      "[public-origin=https://konsil.example]");
    CHECK(parse("", &s, err, sizeof err) == 0 && s.n == 0);
    CHECK(parse("# only\n\n   \n#comments", &s, err, sizeof err) == 0 && s.n == 0);
    CHECK(parse("a = b = c\n", &s, err, sizeof err) == 0);
    CHECK_STR(s.text, "[a=b = c]");
}

static void refusals_name_the_line(void)
{
    seen s;
    char err[256];

    CHECK(parse("a = 1\nnot a pair\n", &s, err, sizeof err) == -1);
    CHECK_STR(err, "line 2: not `key = value`");
    CHECK(parse("a = 1\n\nb =   # nothing\n", &s, err, sizeof err) == -1);
    CHECK_STR(err, "line 3: the value is empty");
    CHECK(parse(" = 1\n", &s, err, sizeof err) == -1);
    CHECK_STR(err, "line 1: the key is empty");
    CHECK(parse("max body = 1\n", &s, err, sizeof err) == -1);
    CHECK_STR(err, "line 1: a key has no blanks ('max body')");
    CHECK(parse("db = a\n# again\ndb = b\n", &s, err, sizeof err) == -1);
    CHECK_STR(err, "line 3: db is given twice");
    CHECK_STR(s.text, "[db=a]");
}

static void the_caller_refuses(void)
{
    seen s;
    char err[256], buf[64] = "a = 1\nb = 2\nc = 3\n";

    memset(&s, 0, sizeof s);
    s.stop_at = 2;
    CHECK(config_file_parse(buf, strlen(buf), collect, &s, err, sizeof err) == -1);
    CHECK_STR(err, "line 2: no b");
    CHECK_STR(s.text, "[a=1]");
}

static void nul_and_long_lines(void)
{
    char err[256], buf[CONFIG_FILE_LINE_MAX + 64];
    seen s;

    memset(&s, 0, sizeof s);
    memcpy(buf, "a = 1\0b = 2", 12);
    CHECK(config_file_parse(buf, 11, collect, &s, err, sizeof err) == -1);
    CHECK_STR(err, "the file holds a NUL byte");
    CHECK(s.n == 0);
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "k = ", 4);
    buf[CONFIG_FILE_LINE_MAX + 1] = '\0';
    CHECK(config_file_parse(buf, CONFIG_FILE_LINE_MAX + 1, collect, &s, err, sizeof err) == -1);
    CHECK(strstr(err, "line 1: longer than") != NULL);
}

int main(void)
{
    RUN(pairs_in_order);
    RUN(refusals_name_the_line);
    RUN(the_caller_refuses);
    RUN(nul_and_long_lines);
    return unit_finish("test_util_config_file");
}
