/* Kinetics dataset manager: annotation and path-list parsers, resumable partition download,
 * safe unpacking, a SQLite state store and a cache of preprocessed uint8 clips.
 * Everything lives under one DATA_DIR that the caller names; see docs/dataset.md. */
#ifndef VIDBENCH_DATASET_H
#define VIDBENCH_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"
#include "vidbench/video.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Versions and splits. A version is 400, 600 or 700 (700 = the 2020 release, "700_2020" on
 * the mirror). */
typedef enum vb_split { VB_SPLIT_TRAIN = 0, VB_SPLIT_VAL = 1, VB_SPLIT_TEST = 2 } vb_split;

/* "train", "val", "test". */
const char *vb_split_name(vb_split split);
/* Accepts train, val, validate, test; VB_EINVAL otherwise. */
int vb_split_parse(const char *text, vb_split *split);
/* 1 for 400, 600, 700. */
int vb_kinetics_version_valid(int version);

/* ---------------------------------------------------------------------------------------
 * Annotations: one row per clip. Parsed from the CSV files (label,youtube_id,time_start,
 * time_end,split[,is_cc]; quoted fields, CRLF, no label column in test files) or from the
 * K600 `ls -R` listing (val.txt / train.txt: "val/<class>:" blocks of clip file names). */
typedef struct vb_annotation {
    char youtube_id[12];      /* 11 characters + NUL */
    int32_t time_start;       /* seconds */
    int32_t time_end;
    int32_t label;            /* index into vb_annotations.labels, -1 for unlabelled (test) */
} vb_annotation;

typedef struct vb_annotations {
    size_t count;
    vb_annotation *rows;      /* count rows, file order */
    int label_count;
    char **labels;            /* label_count distinct names, sorted (strcmp), owned */
    int has_labels;           /* 0 for test files */
    /* private lookup index (rows sorted by youtube_id, time_start) */
    uint32_t *by_id_;
} vb_annotations;

/* Parses a whole file held in memory; name is used in error messages only. The format
 * (CSV or ls -R listing) is recognised from the first line. */
int vb_annotations_parse(const char *text, size_t size_bytes, const char *name,
                         vb_annotations *annotations, vb_error *err);
int vb_annotations_load(const char *path, vb_annotations *annotations, vb_error *err);
void vb_annotations_free(vb_annotations *annotations);

/* Ground truth of a clip: the row whose YouTube id matches; where an id repeats, the row
 * whose window starts at time_start (pass -1 to take the first row of the id). Returns the
 * row index or -1. */
long vb_annotations_find(const vb_annotations *annotations, const char *youtube_id,
                         int time_start);
/* Label name of a row, NULL when unlabelled. */
const char *vb_annotation_label(const vb_annotations *annotations, size_t row);

/* Clip file names: "<youtube_id>_<start:06d>_<end:06d>.mp4" (any directory prefix is
 * ignored; the id is the first 11 characters). 0 on success, VB_EFORMAT otherwise. */
int vb_clip_name_parse(const char *file_name, char youtube_id[12], int *time_start,
                       int *time_end);

/* ---------------------------------------------------------------------------------------
 * Partition lists: one URL per line (K600 class names contain spaces; kept verbatim). */
typedef struct vb_pathlist {
    size_t count;
    char **urls;              /* owned; each URL once (a repeated line is dropped) */
    size_t duplicates;        /* repeated lines dropped by the parser */
} vb_pathlist;

int vb_pathlist_parse(const char *text, size_t size_bytes, const char *name,
                      vb_pathlist *list, vb_error *err);
int vb_pathlist_load(const char *path, vb_pathlist *list, vb_error *err);
void vb_pathlist_free(vb_pathlist *list);

/* Partition sharding: the shard (of shard_count) that partition index p of the path list
 * belongs to, p mod shard_count. Kinetics partitions hold about the same number of clips, so
 * this balances to within one partition without knowing the list's length, and it never
 * changes when a shard's own download fails. shard_count <= 1: always 0. */
int vb_partition_shard(size_t partition, int shard_count);

/* Default mirror root and the canonical prefix the real lists carry. */
#define VB_KINETICS_MIRROR "https://s3.amazonaws.com/kinetics/"

/* Rewrites url for another mirror: a url starting with VB_KINETICS_MIRROR gets that prefix
 * replaced by mirror_root; spaces (and other bytes unsafe in a URL) are percent-encoded.
 * Returns a malloc'd string, NULL on allocation failure. mirror_root NULL = default. */
char *vb_mirror_url(const char *url, const char *mirror_root);

/* ---------------------------------------------------------------------------------------
 * Safe unpacking (libarchive; tar, tar.gz, and whatever else libarchive detects). Only
 * regular files and directories are written, each file through a temporary name then a
 * rename; entries with absolute paths or ".." components, links of any kind and device
 * nodes are refused (links pointing outside the target are counted as unsafe). Nothing is
 * ever written outside target_dir. */
typedef struct vb_unpack_result {
    int files_written;
    int entries_refused;      /* unsafe entries (absolute, "..", link escaping the target,
                                 sparse, name too long) */
    int64_t bytes_written;    /* total of the files' bytes */
    int entries_skipped;      /* harmless entries not written (links inside, fifo, ...) */
    char first_refused[512];  /* name of the first refused entry, for the report */
} vb_unpack_result;

/* Called for each file written, with its path relative to target_dir. Return non-zero to
 * stop (VB_ESTATE). */
typedef int (*vb_unpack_file_fn)(void *user, const char *relative_path);

/* Bounds on what one archive may unpack to, against compression bombs. The total of the
 * entries' bytes may pass neither max_total_bytes nor max(max_ratio x the archive's size,
 * ratio_floor_bytes). Defaults (vb_unpack_limits_init): 64 GiB, ratio 50, floor 16 MiB (video
 * tarballs unpack to about 1x; text-heavy small archives may compress far better). */
typedef struct vb_unpack_limits {
    int64_t max_total_bytes;
    double max_ratio;
    int64_t ratio_floor_bytes;
} vb_unpack_limits;

void vb_unpack_limits_init(vb_unpack_limits *limits);

/* Returns VB_EFORMAT when the archive is truncated or corrupt, VB_ELIMIT when it unpacks to
 * more than the default limits (files completed before stay, nothing half-written). Only
 * libarchive's built-in decompressors are enabled (never an external program such as
 * lrzip -d or lzop -d); sparse entries and entries whose names do not fit the file system
 * (a component over 241 bytes, a path over 1023) are refused like unsafe ones. */
int vb_unpack_archive(const char *archive_path, const char *target_dir,
                      vb_unpack_file_fn on_file, void *user, vb_unpack_result *result,
                      vb_error *err);
/* The same with explicit limits (NULL = defaults). */
int vb_unpack_archive_limited(const char *archive_path, const char *target_dir,
                              const vb_unpack_limits *limits, vb_unpack_file_fn on_file, void *user,
                              vb_unpack_result *result, vb_error *err);

/* ---------------------------------------------------------------------------------------
 * The dataset under DATA_DIR:
 *   DATA_DIR/vidbench-data.db                      SQLite state (WAL)
 *   DATA_DIR/meta/kinetics/{ver}/{split}/          path list + annotation file as fetched
 *   DATA_DIR/downloads/kinetics/{ver}/{split}/     partition tarballs (.part while partial;
 *                                                  removed once unpacked)
 *   DATA_DIR/raw/kinetics/{ver}/{split}/           unpacked clips (archive layout kept)
 *   DATA_DIR/cache/kinetics/{ver}/{split}/{key}/   prepared uint8 clips, key = parameters
 * One vb_dataset may be used from one thread at a time; the functions below run their own
 * worker threads. Two processes on one DATA_DIR are serialised by SQLite. */
typedef struct vb_dataset vb_dataset;

int vb_dataset_open(const char *data_dir, vb_dataset **dataset, vb_error *err);
/* Accepts NULL; clears the pointer. */
void vb_dataset_free(vb_dataset **dataset);

/* Progress events for download and prepare. Called from worker threads, serialised by the
 * library (never two calls at once). Return non-zero to stop the run (it stays resumable). */
typedef enum vb_dataset_event {
    VB_EVENT_BYTES = 0,       /* partition bytes arrived: bytes_done/bytes_total */
    VB_EVENT_PARTITION_DONE,  /* a partition downloaded and unpacked: clips_added */
    VB_EVENT_PARTITION_FAILED,/* a partition failed; message says why; the run continues */
    VB_EVENT_CLIP_DONE,       /* prepare: one clip cached (or already cached) */
    VB_EVENT_CLIP_BAD,        /* prepare: one clip failed; message holds the reason */
    VB_EVENT_INFO,            /* something worth a log line (message) */
} vb_dataset_event;

typedef struct vb_dataset_progress {
    vb_dataset_event event;
    const char *item;         /* partition URL or clip id */
    int64_t bytes_done;       /* VB_EVENT_BYTES: this partition; total -1 when unknown */
    int64_t bytes_total;
    int64_t bytes_all_done;   /* all partitions of this run so far (rate and ETA) */
    int items_done;           /* partitions (download) or clips (prepare) finished */
    int items_total;          /* planned count; 0 when not known yet */
    long clips_on_disk;       /* download: clips unpacked for this version/split */
    const char *message;      /* FAILED/BAD/INFO text, else NULL */
} vb_dataset_progress;

typedef int (*vb_dataset_progress_fn)(void *user, const vb_dataset_progress *progress);

typedef struct vb_download_request {
    int version;              /* 400, 600, 700 */
    vb_split split;
    long num_videos;          /* stop once this many clips are on disk; <= 0 = all */
    const char *mirror;       /* mirror root replacing VB_KINETICS_MIRROR; NULL = default */
    int jobs;                 /* parallel partition downloads; 0 = 1 */
    int64_t min_free_bytes;   /* keep at least this free; 0 = 1 GiB. A partition starts only
                                 when free space >= this + 2.5 x the largest partition seen */
    int max_attempts;         /* per partition, passed to vb_download_file; 0 = default */
    int initial_backoff_ms;   /* 0 = default */
    /* Partition sharding: with shard_count > 1 only the partitions p with
     * vb_partition_shard(p, shard_count) == shard_index are fetched, and the result's
     * partitions_total / _done count those alone. 0/0 (init) = every partition. */
    int shard_index, shard_count;
    vb_dataset_progress_fn progress;
    void *progress_user;
} vb_download_request;

void vb_download_request_init(vb_download_request *request);

typedef struct vb_download_result {
    int partitions_total;     /* in the path list */
    int partitions_done;      /* done in this or an earlier run */
    int partitions_failed;    /* failed in this run (see the events / vb_dataset_status) */
    long clips_on_disk;
    int unsafe_entries;       /* archive entries refused */
} vb_download_result;

/* Fetches path list and annotations (once), then partitions in list order until
 * num_videos clips are on disk. A partition counts as done only after it is downloaded
 * and unpacked; a re-run skips done ones and resumes a partial download. A partition that
 * fails (404, truncated archive, retries exhausted) is reported and the run goes on; it is
 * retried on the next run. Returns 0 when the target was reached (or, with num_videos <= 0,
 * every partition is done), VB_ENOSPACE when free space ran short, otherwise the error of
 * the last failed partition. */
int vb_dataset_download(vb_dataset *dataset, const vb_download_request *request,
                        vb_download_result *result, vb_error *err);

/* Preprocessing parameters of the cache: a subset of vb_video_options that decides the
 * pixels (size, resize, num_frames, min_frames, target_fps). Different parameters never
 * share cache entries. */
typedef struct vb_prepare_request {
    int version;
    vb_split split;
    long num_videos;          /* prepare the first N clips (listing order); <= 0 = all */
    vb_video_options video;   /* size/resize/num_frames/min_frames/target_fps matter */
    int jobs;                 /* parallel clips; 0 = 1 */
    int overwrite;            /* decode again clips already cached or recorded bad for these
                                 parameters (the seed's --overwrite_cache); each cache file is
                                 replaced atomically, so a killed run leaves the old one */
    int shard_index, shard_count;   /* as in vb_download_request: only these partitions'
                                       clips (num_videos counts among them) */
    vb_dataset_progress_fn progress;
    void *progress_user;
} vb_prepare_request;

void vb_prepare_request_init(vb_prepare_request *request);

typedef struct vb_prepare_result {
    long clips_considered;
    long clips_cached;        /* now in the cache (including earlier runs) */
    long clips_bad;           /* recorded as bad, with reasons */
} vb_prepare_result;

/* Decodes and caches clips; a clip that fails is recorded as bad (reason kept) and
 * skipped, never fatal. Returns 0 unless the run itself failed (I/O, database). */
int vb_dataset_prepare(vb_dataset *dataset, const vb_prepare_request *request,
                       vb_prepare_result *result, vb_error *err);

/* The cache key of a set of parameters, e.g. "s224-crop-t0-m128-fps0" (file-name safe). */
void vb_prepare_key(const vb_video_options *video, char key[64]);

/* ---------------------------------------------------------------------------------------
 * Listing local clips with their ground truth. */
typedef enum vb_clip_status {
    VB_CLIP_UNPACKED = 0,     /* on disk, not prepared for the asked parameters */
    VB_CLIP_PREPARED,         /* cached for the asked parameters */
    VB_CLIP_BAD,              /* known bad (reason in bad_reason) */
} vb_clip_status;

typedef struct vb_dataset_clip {
    char clip_id[64];         /* file stem: <youtube_id>_<start:06d>_<end:06d> */
    char youtube_id[12];
    int time_start, time_end;
    const char *label;        /* ground-truth name, NULL when the annotations have none */
    char *path;               /* absolute path of the unpacked file */
    vb_clip_status status;
    const char *bad_reason;   /* NULL unless VB_CLIP_BAD */
    size_t partition;         /* index of its partition in the path list */
} vb_dataset_clip;

typedef struct vb_dataset_clip_list {
    size_t count;
    vb_dataset_clip *clips;     /* in download order (partition, then name); owned */
    char *strings_;           /* private */
} vb_dataset_clip_list;

/* Clips of a version/split on disk with their ground truth. prepared_for selects which
 * cache the status refers to (PREPARED / BAD for those parameters / UNPACKED); with NULL
 * the status is BAD when the clip failed under any parameters, else UNPACKED. */
int vb_dataset_clips(vb_dataset *dataset, int version, vb_split split,
                     const vb_video_options *prepared_for, vb_dataset_clip_list *list, vb_error *err);
void vb_dataset_clip_list_free(vb_dataset_clip_list *list);

/* Loads the annotation file `data download` fetched for a version/split (CSV, or the K600
 * train/val listing) into *annotations; VB_ENOTFOUND when none was downloaded yet. Free
 * with vb_annotations_free. */
int vb_dataset_load_annotations(vb_dataset *dataset, int version, vb_split split,
                                vb_annotations *annotations, vb_error *err);

/* Loads the cached uint8 frames of a prepared clip ([T,S,S,3] RGB, as vb_video_decode_clip
 * returns them). VB_ENOTFOUND when the clip is not cached for these parameters. The caller
 * frees the clip with vb_frames_free. */
int vb_dataset_load_prepared(vb_dataset *dataset, int version, vb_split split,
                             const char *clip_id, const vb_video_options *video,
                             vb_frames *clip, vb_error *err);

/* Counts per version/split for `data status`. */
typedef struct vb_split_status {
    int version;
    vb_split split;
    long annotated;           /* rows in the annotations (0 when not fetched) */
    int partitions_total, partitions_done, partitions_failed;
    long clips_unpacked;
    long clips_prepared;      /* in any cache */
    long clips_bad;           /* distinct clips known bad */
} vb_split_status;

/* Known-bad clips with reasons (for status --verbose). */
typedef struct vb_bad_clip {
    int version;
    vb_split split;
    char clip_id[64];
    char params_key[64];
    char reason[256];
} vb_bad_clip;

/* Fills a malloc'd array with one entry per version/split that has any state. */
int vb_dataset_status(vb_dataset *dataset, vb_split_status **status, size_t *count,
                      vb_error *err);
int vb_dataset_bad_clips(vb_dataset *dataset, vb_bad_clip **bad, size_t *count, vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
