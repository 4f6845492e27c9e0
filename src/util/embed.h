/* Files embedded in the binary at build time. */
#ifndef SYNCRUN_UTIL_EMBED_H
#define SYNCRUN_UTIL_EMBED_H

#include <stdint.h>

/* Embeds the file at path (relative to the repository root, where make runs the compiler) in
 * .rodata: `name`, its bytes (then a NUL), and `name_size`, their count. The assembler computes the
 * size: in C, subtracting the addresses of two distinct objects is undefined. The Makefile lists
 * the file as a prerequisite of the object that embeds it, so an edit of the file rebuilds it. */
#define EMBED_FILE(name, path)                                                                                         \
    __asm__(".section .rodata\n"                                                                                       \
            ".global " #name "\n"                                                                                      \
            ".type " #name ", @object\n" #name ":\n"                                                                   \
            ".incbin \"" path "\"\n" #name "_end:\n"                                                                   \
            ".byte 0\n"                                                                                                \
            ".balign 8\n"                                                                                              \
            ".global " #name "_size\n"                                                                                 \
            ".type " #name "_size, @object\n" #name "_size:\n"                                                         \
            ".quad " #name "_end - " #name "\n"                                                                        \
            ".previous\n");                                                                                            \
    extern const char name[]; /* NOLINT(bugprone-macro-parentheses): a declarator */                                   \
    extern const uint64_t name##_size

#endif
