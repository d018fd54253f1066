#ifndef FUZZ_SUPPORT_H
#define FUZZ_SUPPORT_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's driver, for targets whose `main` SwiftPM renames (testable executables link their entry
 * point as <Target>_main): the target's <Target>_main calls this with its test callback. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
