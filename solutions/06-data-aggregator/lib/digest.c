/**
 * @file digest.c
 * @brief Given: the seed's process_data(), in C: count, words, a checksum and CPU work.
 *
 * The CPU-heavy part of the aggregator. The rounds are a chain of dependent multiplications
 * and remainders: the compiler cannot skip or vectorise them, so `rounds` sets the CPU time
 * (a few nanoseconds a round). It touches nothing but its arguments: any number of threads or
 * processes may run it at once.
 */
#include "kit.h"
#include "methods.h"

#include <unistd.h>

void agg_digest_compute(const char *body, size_t size, uint64_t rounds, struct agg_digest *digest)
{
    uint64_t words = 0, checksum = 0;
    bool in_word = false;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)body[i];
        checksum += c;
        bool space = c == ' ' || (c >= '\t' && c <= '\r'); /* \t \n \v \f \r */
        if (!space && !in_word)
            words++;
        in_word = !space;
    }
    for (uint64_t r = 0; r < rounds; r++)
        checksum = (checksum * 31 + 17) % 1000000007;
    *digest = (struct agg_digest){.chars = size, .words = words, .checksum = checksum};
}

void agg_digest_source(struct agg_source *source, const struct agg_body *body, uint64_t rounds)
{
    double start = kit_now();
    agg_digest_compute(body->data, body->size, rounds, &source->digest);
    source->process_seconds = kit_seconds_since(start);
    source->processed_by = getpid();
    source->ok = true;
}
