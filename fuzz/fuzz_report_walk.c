/* libFuzzer target for the report's directory walk (vb_report_add_videos): the input is a
 * small program that builds a tree of directories, video files and symbolic links (to ".",
 * "..", the root, other nodes, nowhere) and hard links in a scratch box, which is then walked.
 * However the links loop, each directory is walked once: the walk ends quickly and finds at
 * most one clip per entry with a video name that the tree holds.
 * Box: /tmp/vb_fuzz_walk.<pid>/tree, rebuilt for every input. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch_tree.h"
#include "vidbench/report.h"

enum { MAX_NODES = 40 };

static char box[256], tree[300];


static void reset_tree(void)
{
    scratch_remove_tree(tree);
    if (mkdir(tree, 0755) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a", "b", "c", "x.mp4", "y.mkv", "z.avi", "d.txt", ".hidden",
                                        "e", "f.MP4", "g", "h.webm"};
    /* Targets stay inside the box (a ".." from the root reaches the box, which holds only
     * the tree), so no walk ever sees files that are not the input's. */
    static const char *const link_targets[] = {".", "..", "a", "x.mp4", "a/b", "../a", "nowhere", "/",
                                               "../x.mp4", "a/a", "e/f.MP4", "../b"};
    enum { NAMES = sizeof names / sizeof names[0], TARGETS = sizeof link_targets / sizeof link_targets[0] };
    if (!box[0]) {
        snprintf(box, sizeof box, "/tmp/vb_fuzz_walk.%ld", (long)getpid());
        snprintf(tree, sizeof tree, "%s/tree", box);
        mkdir(box, 0755);
    }
    reset_tree();
    /* dirs[i]: directories made so far (dirs[0] = the root); video_entries: entries with a
     * video name (files, links, hard links), the most clips a walk may find. */
    char dirs[MAX_NODES][300];
    int num_dirs = 1, num_files = 0, video_entries = 0, nodes = 0;
    snprintf(dirs[0], sizeof dirs[0], "%s", tree);
    for (size_t i = 0; i + 2 < size && nodes < MAX_NODES; i += 3, nodes++) {
        const char *parent = dirs[data[i + 1] % num_dirs];
        char path[600];
        const char *name = names[data[i + 2] % NAMES];
        const int video_name = strchr(name, '.') && strcmp(name, "d.txt") && strcmp(name, ".hidden");
        snprintf(path, sizeof path, "%s/%s", parent, name);
        switch (data[i] % 4) {
        case 0:
            if (strlen(path) < sizeof dirs[0] && mkdir(path, 0755) == 0 && num_dirs < MAX_NODES)
                snprintf(dirs[num_dirs++], sizeof dirs[0], "%s", path);
            break;
        case 1: {
            FILE *fp = fopen(path, "wx");
            if (fp) {
                fclose(fp);
                num_files++;
                video_entries += video_name;
            }
            break;
        }
        case 2: {
            char target[600];
            const char *t = link_targets[(data[i] / 4) % TARGETS];
            if (!strcmp(t, "/"))
                snprintf(target, sizeof target, "%s", tree); /* absolute, back to the root */
            else
                snprintf(target, sizeof target, "%s", t);
            if (symlink(target, path) == 0)
                video_entries += video_name;
            break;
        }
        default: /* a second name for an existing file (same inode) */
            (void)link(dirs[0], path); /* fails for a directory, as it must */
            if (num_files > 0) {
                char first[600];
                snprintf(first, sizeof first, "%s/x.mp4", parent);
                if (link(first, path) == 0)
                    video_entries += video_name;
            }
            break;
        }
    }
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    const char *paths[2] = {tree, dirs[num_dirs - 1]};
    int rc = vb_report_add_videos(&report, paths, 1 + (size > 0 && data[0] & 0x80), box, &err);
    /* A directory walked twice would add its entries again (phantom clips). Link targets
     * stay inside the box (above), so no clip can come from elsewhere. */
    if (rc == 0 && report.num_clips > video_entries)
        abort();
    if (rc == 0)
        vb_report_finish(&report, 4, &err);
    vb_report_free(&report);
    return 0;
}
