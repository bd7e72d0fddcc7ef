/*
 * The log's lines (util/klog.h): JSON escaping and validity, text quoting, levels,
 * fields that do not fit, and the line that is written whatever the level. stderr is
 * redirected into a file for each case.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/klog.h"
#include "unit.h"

static char captured[8192];

/* Runs fn with stderr going to a file; its output into `captured`. */
static void capture(void (*fn)(void))
{
    FILE *f = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    fflush(stderr);
    dup2(fileno(f), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    n = fread(captured, 1, sizeof captured - 1, f);
    captured[n] = '\0';
    fclose(f);
}

static void json_line(void)
{
    klog_line l;

    klog_setup(KLOG_JSON, KLOG_INFO);
    klog_begin(&l, KLOG_WARN, "store", "a \"quoted\" message\nwith a newline");
    klog_str(&l, "error", "disk \\ full\t\x01");
    klog_int(&l, "n", -42);
    klog_num(&l, "ratio", 0.5);
    klog_end(&l);
}

static void json_escapes(void)
{
    cJSON *j;

    capture(json_line);
    CHECK(strchr(captured, '\n') == captured + strlen(captured) - 1);
    j = cJSON_Parse(captured);
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "level")), "warn");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "component")), "store");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg")),
              "a \"quoted\" message\nwith a newline");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")), "disk \\ full\t\x01");
    CHECK(cJSON_GetObjectItem(j, "n")->valuedouble == -42);
    CHECK(cJSON_GetObjectItem(j, "ratio")->valuedouble == 0.5);
    CHECK(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(j, "ts"))) == 24);
    cJSON_Delete(j);
}

static void text_lines(void)
{
    klog_line l;

    klog_setup(KLOG_TEXT, KLOG_INFO);
    klog(KLOG_INFO, "hub", "listening on http://127.0.0.1:8080");
    klog_begin(&l, KLOG_ERROR, "store", "commit failed");
    klog_str(&l, "error", "disk I/O error");
    klog_str(&l, "doc", "abc");
    klog_str(&l, "empty", "");
    klog_end(&l);
    klog(KLOG_DEBUG, "http", "not written at info");
}

static void text_format(void)
{
    capture(text_lines);
    CHECK_STR(captured, "listening on http://127.0.0.1:8080\n"
                        "error: commit failed error=\"disk I/O error\" doc=abc empty=\"\"\n");
}

static void levels_lines(void)
{
    klog_setup(KLOG_TEXT, KLOG_ERROR);
    klog(KLOG_WARN, "hub", "hidden");
    klog(KLOG_INFO, "hub", "hidden");
    klog_always(KLOG_INFO, "hub", "listening on http://h:1");
    klog(KLOG_ERROR, "hub", "shown");
    klog_setup(KLOG_TEXT, KLOG_DEBUG);
    klog(KLOG_DEBUG, "hub", "debug shown");
}

static void levels(void)
{
    capture(levels_lines);
    CHECK_STR(captured, "listening on http://h:1\nerror: shown\ndebug: debug shown\n");
    klog_level lv;
    klog_format f;
    CHECK(klog_level_parse("warn", &lv) == 0 && lv == KLOG_WARN);
    CHECK(klog_level_parse("WARN", &lv) == -1);
    CHECK(klog_format_parse("json", &f) == 0 && f == KLOG_JSON);
    CHECK(klog_format_parse("xml", &f) == -1);
}

static void long_lines(void)
{
    char big[1500];
    klog_line l;

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    klog_setup(KLOG_JSON, KLOG_INFO);
    klog_begin(&l, KLOG_INFO, "hub", "long");
    klog_str(&l, "a", big);
    klog_str(&l, "b", big);     /* does not fit whole: left out */
    klog_int(&l, "c", 1);
    klog_end(&l);
}

static void fields_that_do_not_fit(void)
{
    cJSON *j;

    capture(long_lines);
    j = cJSON_Parse(captured);
    CHECK(j != NULL);
    CHECK(cJSON_GetObjectItem(j, "a") != NULL);
    CHECK(cJSON_GetObjectItem(j, "b") == NULL);
    CHECK(cJSON_GetObjectItem(j, "c") != NULL);
    CHECK(strlen(captured) <= KLOG_LINE_MAX);
    cJSON_Delete(j);
}

int main(void)
{
    RUN(json_escapes);
    RUN(text_format);
    RUN(levels);
    RUN(fields_that_do_not_fit);
    return unit_finish("test_util_klog");
}
