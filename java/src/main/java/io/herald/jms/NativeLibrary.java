package io.herald.jms;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libherald_jni once: from the path in the system property {@code herald.native.path}
 * when set, else from the resource {@code /native/<os>-<arch>/libherald_jni.so} bundled in
 * the jar, copied to a private temporary directory that is removed again at once (the
 * loaded mapping survives the unlink).
 */
public final class NativeLibrary {
    public static final String PATH_PROPERTY = "herald.native.path";

    private static final Object LOCK = new Object();
    private static boolean loaded;
    private static Throwable failure;

    private NativeLibrary() {}

    public static void load() {
        synchronized (LOCK) {
            if (loaded) {
                return;
            }
            if (failure != null) {
                throw linkError("the Herald native library failed to load earlier", failure);
            }
            try {
                doLoad();
                loaded = true;
            } catch (Throwable t) {
                failure = t;
                throw t instanceof UnsatisfiedLinkError ? (UnsatisfiedLinkError) t
                        : linkError("cannot load the Herald native library", t);
            }
        }
    }

    private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError(message + ": " + cause);
        e.initCause(cause);
        return e;
    }

    private static void doLoad() throws IOException {
        String override = System.getProperty(PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            System.load(Paths.get(override).toAbsolutePath().toString());
            return;
        }
        String resource = "/native/" + platform() + "/libherald_jni.so";
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("the Herald jar has no native library for " + platform()
                        + " (resource " + resource + "); set -D" + PATH_PROPERTY + "=/path/to/libherald_jni.so");
            }
            Path dir = Files.createTempDirectory("herald-jni");
            Path file = dir.resolve("libherald_jni.so");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                System.load(file.toString());
            } finally {
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            }
        }
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        } else if (arch.equals("aarch64") || arch.equals("arm64")) {
            arch = "aarch64";
        }
        if (os.contains("linux")) {
            os = "linux";
        } else if (os.contains("mac")) {
            os = "macos";
        } else if (os.contains("windows")) {
            os = "windows";
        }
        return os + "-" + arch;
    }
}
