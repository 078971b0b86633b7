/* Scratch directories of the file-system fuzz targets: rm -rf that never follows a link
 * (the trees hold links to ".", "..", "/" on purpose). */
#ifndef VB_FUZZ_SCRATCH_TREE_H
#define VB_FUZZ_SCRATCH_TREE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int scratch_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void scratch_remove_tree(const char *path)
{
    nftw(path, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
