/* Formats access-control error messages; see auth_error.h. */
#include "auth/auth_error.h"

#include <stdarg.h>
#include <stdio.h>

int auth_fail(auth_error *err, const char *fmt, ...)
{
    if (err && err->message[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}
