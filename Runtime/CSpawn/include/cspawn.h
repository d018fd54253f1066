#ifndef CSPAWN_H
#define CSPAWN_H
#include <spawn.h>

/* Child processes for Swift: the GNU calls that make a descriptor close-on-exec from the moment it exists, and
 * that keep a child from inheriting descriptors it was not given. Swift's Glibc module is built without
 * _GNU_SOURCE, so it has neither. */

/* pipe2(fds, O_CLOEXEC): 0, or -1 with errno set. */
int cspawn_pipe_cloexec(int fds[2]);

/* Adds "close every descriptor from `from` on" to `actions` (glibc 2.34+): 0, or an errno value (ENOSYS on
 * an older C library). */
int cspawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
