/* Model registry and installation: the built-in pins equal the sha256 of the real files in
 * ../shared, manifests add models but cannot touch the built-ins, and fetch installs a golden
 * checkpoint (laid out like the kinetics-i3d repository) atomically from a local directory
 * or the local HTTP mirror, leaving nothing installed when a byte is wrong. */
#include "testlib.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "vidbench/download.h"
#include "vidbench/models.h"
#include "vidbench/tfckpt.h"

#define GOLDEN_K400_INDEX_SHA "65bd4a3cd81df0abb1f63cf317b91f69bbe2603a99a2490dc2f3dd7bb7a499cd"
#define LABEL_MAP_400_SHA "e9f2806fe9109b851a80a74841244f6f8c9d10917fa0229cd82bab67f2f8e28f"

static void expect_pin(const vb_model_info *model, vb_model_file_role role, const char *shared_relative)
{
    const vb_model_file *file = vb_model_find_file(model, role);
    assert_non_null(file);
    char hex[65];
    vb_error err = {0};
    if (vb_sha256_file(shared_path(shared_relative), hex, &err))
        fail_msg("%s", err.message);
    if (!file->sha256 || strcmp(hex, file->sha256))
        fail_msg("%s: pin %s, but ../shared/%s has sha256 %s", model->name, file->sha256 ? file->sha256 : "(none)",
                 shared_relative, hex);
    struct stat st;
    assert_int_equal(stat(shared_path(shared_relative), &st), 0);
    assert_int_equal(file->size_bytes, (int64_t)st.st_size);
}

static void builtin_pins_match_the_real_files(void **state)
{
    (void)state;
    vb_model_registry *registry = NULL;
    vb_error err = {0};
    assert_int_equal(vb_model_registry_load_manifest(NULL, &registry, &err), VB_OK);
    assert_int_equal(vb_model_registry_count(registry), 3);
    const vb_model_info *k400 = vb_model_registry_find(registry, "i3d-kinetics-400");
    const vb_model_info *k600 = vb_model_registry_find(registry, "i3d-kinetics-600");
    const vb_model_info *movinet = vb_model_registry_find(registry, "movinet-a0-stream-k600");
    assert_non_null(k400);
    assert_non_null(k600);
    assert_non_null(movinet);
    expect_pin(k400, VB_MODEL_FILE_INDEX, "data/i3d/checkpoints/rgb_imagenet/model.ckpt.index");
    expect_pin(k400, VB_MODEL_FILE_LABELS, "data/labelmaps/kinetics400_label_map.txt");
    expect_pin(k400, VB_MODEL_FILE_REFERENCE, "data/i3d/out/imagenet_rgb.txt");
    expect_pin(k600, VB_MODEL_FILE_INDEX, "data/i3d/checkpoints/rgb_scratch_kin600/model.ckpt.index");
    expect_pin(k600, VB_MODEL_FILE_LABELS, "data/labelmaps/kinetics600_label_map.txt");
    expect_pin(movinet, VB_MODEL_FILE_TFLITE, "models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite");
    expect_pin(movinet, VB_MODEL_FILE_LABELS, "models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt");
    /* Data shard sizes the pinned indexes imply (acceptance 1). */
    assert_int_equal(vb_model_find_file(k400, VB_MODEL_FILE_DATA)->size_bytes, 50818176);
    assert_int_equal(vb_model_find_file(k600, VB_MODEL_FILE_DATA)->size_bytes, 103218112);
    assert_string_equal(vb_model_find_file(k400, VB_MODEL_FILE_DATA)->url,
                        "https://github.com/deepmind/kinetics-i3d/raw/master/data/checkpoints/rgb_imagenet/"
                        "model.ckpt.data-00000-of-00001");
    vb_model_registry_free(&registry);
    assert_null(registry);
}

static void mirror_url_replaces_the_repository_prefix(void **state)
{
    (void)state;
    vb_model_registry *registry = NULL;
    assert_int_equal(vb_model_registry_load_manifest(NULL, &registry, NULL), VB_OK);
    const vb_model_file *labels = vb_model_find_file(vb_model_registry_find(registry, "i3d-kinetics-600"),
                                                     VB_MODEL_FILE_LABELS);
    char url[512];
    assert_int_equal(vb_model_file_url(labels, "http://127.0.0.1:8000/ki3d", url, sizeof url), VB_OK);
    assert_string_equal(url, "http://127.0.0.1:8000/ki3d/data/label_map_600.txt");
    assert_int_equal(vb_model_file_url(labels, NULL, url, sizeof url), VB_OK);
    assert_string_equal(url, "https://github.com/deepmind/kinetics-i3d/raw/master/data/label_map_600.txt");
    vb_model_registry_free(&registry);
}

static const char *write_manifest(const char *name, const char *json)
{
    const char *path = temp_path(name);
    vb_error err = {0};
    assert_int_equal(fs_write_file_atomic(path, json, strlen(json), &err), VB_OK);
    return path;
}

static const char *tiny_manifest(const char *file_name, const char *model_name, const char *index_sha)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"models\": [{\"name\": \"%s\", \"architecture\": \"i3d\", \"classes\": 400,"
             " \"files\": ["
             "{\"role\": \"index\", \"path\": \"data/checkpoints/tiny/model.ckpt.index\", \"sha256\": \"%s\"},"
             "{\"role\": \"data\", \"path\": \"data/checkpoints/tiny/model.ckpt.data-00000-of-00001\"},"
             "{\"role\": \"labels\", \"path\": \"data/label_map.txt\", \"sha256\": \"%s\"}]}]}",
             model_name, index_sha, LABEL_MAP_400_SHA);
    return write_manifest(file_name, json);
}

static void manifest_adds_a_model(void **state)
{
    (void)state;
    vb_model_registry *registry = NULL;
    vb_error err = {0};
    const char *path = tiny_manifest("add.json", "tiny-k400", GOLDEN_K400_INDEX_SHA);
    if (vb_model_registry_load_manifest(path, &registry, &err))
        fail_msg("%s", err.message);
    assert_int_equal(vb_model_registry_count(registry), 4);
    const vb_model_info *tiny = vb_model_registry_find(registry, "tiny-k400");
    assert_non_null(tiny);
    assert_string_equal(vb_model_find_file(tiny, VB_MODEL_FILE_INDEX)->sha256, GOLDEN_K400_INDEX_SHA);
    assert_string_equal(tiny->origin, path);
    vb_model_registry_free(&registry);
}

static void manifest_cannot_redefine_a_builtin_model(void **state)
{
    (void)state;
    vb_model_registry *registry = NULL;
    vb_error err = {0};
    const char *path = tiny_manifest("redefine.json", "i3d-kinetics-400", GOLDEN_K400_INDEX_SHA);
    assert_int_equal(vb_model_registry_load_manifest(path, &registry, &err), VB_EEXIST);
    assert_non_null(strstr(err.message, "built in"));
    assert_null(registry);
}

static void manifest_needs_pins_and_safe_paths(void **state)
{
    (void)state;
    vb_model_registry *registry = NULL;
    vb_error err = {0};
    const char *unpinned = write_manifest("unpinned.json",
        "{\"models\": [{\"name\": \"x\", \"files\": [{\"role\": \"index\", \"path\": \"a.index\"},"
        "{\"role\": \"data\", \"path\": \"a.data\"}, {\"role\": \"labels\", \"path\": \"l.txt\", \"sha256\": \""
        LABEL_MAP_400_SHA "\"}]}]}");
    assert_int_equal(vb_model_registry_load_manifest(unpinned, &registry, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "sha256 pin"));
    const char *escaping = write_manifest("escaping.json",
        "{\"models\": [{\"name\": \"x\", \"files\": [{\"role\": \"index\", \"path\": \"../../etc/passwd\", "
        "\"sha256\": \"" LABEL_MAP_400_SHA "\"}]}]}");
    assert_int_equal(vb_model_registry_load_manifest(escaping, &registry, &err), VB_EUNSAFE);
    /* percent-encoded: a file:// base URL decodes %2e%2e to ".." (issue 13) */
    const char *encoded = write_manifest("escaping_encoded.json",
        "{\"models\": [{\"name\": \"x\", \"files\": [{\"role\": \"index\", \"path\": \"a/%2e%2e/%2E%2e/etc/passwd\", "
        "\"sha256\": \"" LABEL_MAP_400_SHA "\"}]}]}");
    assert_int_equal(vb_model_registry_load_manifest(encoded, &registry, &err), VB_EUNSAFE);
    const char *not_json = write_manifest("not.json", "models: none");
    assert_int_equal(vb_model_registry_load_manifest(not_json, &registry, &err), VB_EFORMAT);
    assert_null(registry);
}

static void use_home(const char *name)
{
    char home[4096];
    snprintf(home, sizeof home, "%s", temp_path(name));
    setenv("VIDBENCH_HOME", home, 1);
}

static void resolve_says_how_to_install(void **state)
{
    (void)state;
    use_home("home-resolve");
    unsetenv("VIDBENCH_MODEL_MANIFEST");
    vb_model_paths paths;
    vb_error err = {0};
    assert_int_equal(vb_model_resolve("i3d-kinetics-600", &paths, &err), VB_ENOTFOUND);
    assert_non_null(strstr(err.message, "vidbench model fetch i3d-kinetics-600"));
    assert_int_equal(vb_model_resolve("no-such-model", &paths, &err), VB_ENOTFOUND);
    assert_non_null(strstr(err.message, "unknown"));
}

static void copy_file(const char *from, const char *to, long flip_offset)
{
    char *bytes = NULL;
    size_t size = 0;
    vb_error err = {0};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", to);
    *strrchr(dir, '/') = '\0';
    if (fs_mkdir_p(dir, &err) || fs_read_file(from, 1 << 26, &bytes, &size, &err))
        fail_msg("%s", err.message);
    if (flip_offset >= 0)
        bytes[flip_offset] ^= 0x01;
    if (fs_write_file_atomic(to, bytes, size, &err))
        fail_msg("%s", err.message);
    free(bytes);
}

/* A directory laid out like the kinetics-i3d repository, holding the golden k400 checkpoint
 * as data/checkpoints/tiny/ (data byte flip_offset flipped when >= 0). */
static const char *make_repository_copy(const char *name, long flip_offset)
{
    static char root[4096];
    snprintf(root, sizeof root, "%s", temp_path(name));
    char to[4300];
    char from[4096];
    snprintf(from, sizeof from, "%s", shared_path("golden/i3d-tiny-k400/model.ckpt.index"));
    snprintf(to, sizeof to, "%s/data/checkpoints/tiny/model.ckpt.index", root);
    copy_file(from, to, -1);
    snprintf(from, sizeof from, "%s", shared_path("golden/i3d-tiny-k400/model.ckpt.data-00000-of-00001"));
    snprintf(to, sizeof to, "%s/data/checkpoints/tiny/model.ckpt.data-00000-of-00001", root);
    copy_file(from, to, flip_offset);
    snprintf(from, sizeof from, "%s", shared_path("data/labelmaps/kinetics400_label_map.txt"));
    snprintf(to, sizeof to, "%s/data/label_map.txt", root);
    copy_file(from, to, -1);
    return root;
}

/* Nothing in HOME/models but finished installs (no temporaries left behind). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(d)))
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static const vb_model_info *load_tiny(vb_model_registry **registry, const char *index_sha)
{
    const char *manifest = tiny_manifest("tiny.json", "tiny-k400", index_sha);
    vb_error err = {0};
    if (vb_model_registry_load_manifest(manifest, registry, &err))
        fail_msg("%s", err.message);
    return vb_model_registry_find(*registry, "tiny-k400");
}

static void expect_weights_equal_golden(const char *weights)
{
    vb_safetensors *actual = NULL, *expected = NULL;
    vb_error err = {0};
    assert_int_equal(vb_safetensors_open(weights, &actual, &err), VB_OK);
    assert_int_equal(vb_safetensors_open(shared_path("golden/i3d-tiny-k400/weights.safetensors"), &expected, &err), VB_OK);
    assert_int_equal(vb_safetensors_count(actual), vb_safetensors_count(expected));
    for (int i = 0; i < vb_safetensors_count(expected); i++) {
        const vb_tensor_view *e = vb_safetensors_at(expected, i);
        const vb_tensor_view *a = vb_safetensors_find(actual, e->name);
        if (!a || a->size_bytes != e->size_bytes || memcmp(a->data, e->data, e->size_bytes))
            fail_msg("installed tensor %s differs from the golden weights", e->name);
    }
    assert_string_equal(vb_safetensors_metadata(actual, "source_index_sha256"), GOLDEN_K400_INDEX_SHA);
    assert_string_equal(vb_safetensors_metadata(actual, "model"), "tiny-k400");
    vb_safetensors_free(&actual);
    vb_safetensors_free(&expected);
}

static void fetch_from_local_directory_installs(void **state)
{
    (void)state;
    use_home("home-from");
    vb_model_registry *registry = NULL;
    const vb_model_info *tiny = load_tiny(&registry, GOLDEN_K400_INDEX_SHA);
    vb_model_fetch_options options;
    vb_model_fetch_options_init(&options);
    options.from_dir = make_repository_copy("repo-good", -1);
    vb_model_paths paths;
    vb_error err = {0};
    assert_false(vb_model_installed_paths(tiny, NULL));
    if (vb_model_fetch(tiny, &options, &paths, &err))
        fail_msg("fetch: %s", err.message);
    assert_true(vb_model_installed_paths(tiny, NULL));
    expect_weights_equal_golden(paths.weights);
    vb_labels labels = {0};
    assert_int_equal(vb_labels_load(paths.labels, &labels, &err), VB_OK);
    assert_int_equal(labels.count, 400);
    vb_labels_free(&labels);
    /* Only the finished model directory; the staging area is gone. */
    char models[4200];
    snprintf(models, sizeof models, "%s/models", getenv("VIDBENCH_HOME"));
    assert_int_equal(count_entries(models), 1);
    snprintf(models, sizeof models, "%s/downloads/tiny-k400", getenv("VIDBENCH_HOME"));
    assert_false(fs_path_exists(models));
    /* Resolve by name now finds it (what --model NAME does everywhere). */
    setenv("VIDBENCH_MODEL_MANIFEST", temp_path("tiny.json"), 1);
    vb_model_paths resolved;
    assert_int_equal(vb_model_resolve("tiny-k400", &resolved, &err), VB_OK);
    assert_string_equal(resolved.weights, paths.weights);
    unsetenv("VIDBENCH_MODEL_MANIFEST");
    vb_model_registry_free(&registry);
}

static void corrupt_local_copy_installs_nothing(void **state)
{
    (void)state;
    use_home("home-corrupt");
    vb_model_registry *registry = NULL;
    const vb_model_info *tiny = load_tiny(&registry, GOLDEN_K400_INDEX_SHA);
    vb_model_fetch_options options;
    vb_model_fetch_options_init(&options);
    options.from_dir = make_repository_copy("repo-corrupt", 500000);
    vb_error err = {0};
    assert_int_equal(vb_model_fetch(tiny, &options, NULL, &err), VB_ECHECKSUM);
    assert_non_null(strstr(err.message, "crc32c"));
    assert_false(vb_model_installed_paths(tiny, NULL));
    char models[4200];
    snprintf(models, sizeof models, "%s/models", getenv("VIDBENCH_HOME"));
    assert_int_equal(count_entries(models), 0);
    vb_model_registry_free(&registry);
}

static void wrong_index_pin_installs_nothing(void **state)
{
    (void)state;
    use_home("home-wrongpin");
    vb_model_registry *registry = NULL;
    /* The k400 label map's hash stands in for a wrong index pin. */
    const vb_model_info *tiny = load_tiny(&registry, LABEL_MAP_400_SHA);
    vb_model_fetch_options options;
    vb_model_fetch_options_init(&options);
    options.from_dir = make_repository_copy("repo-wrongpin", -1);
    vb_error err = {0};
    assert_int_equal(vb_model_fetch(tiny, &options, NULL, &err), VB_ECHECKSUM);
    assert_non_null(strstr(err.message, "does not match the pinned"));
    assert_false(vb_model_installed_paths(tiny, NULL));
    vb_model_registry_free(&registry);
}

static void fetch_over_http_resumes_a_dropped_connection(void **state)
{
    (void)state;
    use_home("home-http");
    vb_model_registry *registry = NULL;
    const vb_model_info *tiny = load_tiny(&registry, GOLDEN_K400_INDEX_SHA);
    test_mirror mirror;
    test_mirror_start(&mirror, make_repository_copy("repo-http", -1));
    test_mirror_set_faults(&mirror, "[{\"path\": \"/data/checkpoints/tiny/model.ckpt.data-00000-of-00001\", "
                                    "\"drop_after\": 300000, \"times\": 1}]");
    vb_model_fetch_options options;
    vb_model_fetch_options_init(&options);
    options.base_url = mirror.base_url;
    options.initial_backoff_ms = 10;
    vb_model_paths paths;
    vb_error err = {0};
    int rc = vb_model_fetch(tiny, &options, &paths, &err);
    int resumed = test_mirror_count_requests(&mirror, "model.ckpt.data-00000-of-00001", "bytes=300000-", NULL);
    test_mirror_stop(&mirror);
    if (rc)
        fail_msg("fetch: %s", err.message);
    assert_int_equal(resumed, 1);
    expect_weights_equal_golden(paths.weights);
    vb_model_registry_free(&registry);
}

static void concurrent_fetch_is_refused_and_stale_temporaries_go(void **state)
{
    (void)state;
    use_home("home-lock");
    vb_model_registry *registry = NULL;
    const vb_model_info *tiny = load_tiny(&registry, GOLDEN_K400_INDEX_SHA);
    vb_model_fetch_options options;
    vb_model_fetch_options_init(&options);
    options.from_dir = make_repository_copy("repo-lock", -1);
    char path[4300];
    vb_error err = {0};
    /* A killed fetch left a temporary directory behind. */
    snprintf(path, sizeof path, "%s/models/.tiny-k400.tmp.99999", getenv("VIDBENCH_HOME"));
    assert_int_equal(fs_mkdir_p(path, &err), VB_OK);
    /* Another fetch holds the model's lock. */
    snprintf(path, sizeof path, "%s/downloads", getenv("VIDBENCH_HOME"));
    assert_int_equal(fs_mkdir_p(path, &err), VB_OK);
    strcat(path, "/tiny-k400.lock");
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    assert_int_equal(vb_model_fetch(tiny, &options, NULL, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "another"));
    close(fd);
    if (vb_model_fetch(tiny, &options, NULL, &err))
        fail_msg("fetch after the lock was released: %s", err.message);
    snprintf(path, sizeof path, "%s/models", getenv("VIDBENCH_HOME"));
    assert_int_equal(count_entries(path), 1);   /* tiny-k400 only; the stale temporary is gone */
    vb_model_registry_free(&registry);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_pins_match_the_real_files),
        cmocka_unit_test(mirror_url_replaces_the_repository_prefix),
        cmocka_unit_test(manifest_adds_a_model),
        cmocka_unit_test(manifest_cannot_redefine_a_builtin_model),
        cmocka_unit_test(manifest_needs_pins_and_safe_paths),
        cmocka_unit_test(resolve_says_how_to_install),
        cmocka_unit_test(fetch_from_local_directory_installs),
        cmocka_unit_test(corrupt_local_copy_installs_nothing),
        cmocka_unit_test(wrong_index_pin_installs_nothing),
        cmocka_unit_test(fetch_over_http_resumes_a_dropped_connection),
        cmocka_unit_test(concurrent_fetch_is_refused_and_stale_temporaries_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
