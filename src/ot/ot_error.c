/* Formats engine error messages; see ot_error.h. The first message set wins, so the
 * innermost, most specific reason reaches the sender. */
#include "ot/ot_error.h"

#include <stdarg.h>
#include <stdio.h>

int ot_fail(ot_error *err, const char *fmt, ...)
{
    if (err && err->message[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}
