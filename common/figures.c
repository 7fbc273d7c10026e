/**
 * @file figures.c
 * @brief The kit's one notation for a ratio of two times: "x1.93 faster", "x30.21 slower".
 */
#include "kit.h"

#include <stdio.h>

const char *kit_ratio_text(double times_faster, char text[32])
{
    if (!(times_faster > 0)) /* zero, negative or NaN: no ratio to speak of */
        snprintf(text, 32, "x? (not measurable)");
    else if (times_faster >= 1)
        snprintf(text, 32, "x%.2f faster", times_faster);
    else
        snprintf(text, 32, "x%.2f slower", 1 / times_faster);
    return text;
}
