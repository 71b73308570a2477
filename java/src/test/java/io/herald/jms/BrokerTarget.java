package io.herald.jms;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.Assume;

/**
 * Where a test's broker lives: embedded ({@code vm://}, a fresh broker per test) or a real
 * {@code herald serve} process on a free port of 127.0.0.1, also fresh per test (its own
 * data directory), stopped by {@link #close()}. The tcp variant is skipped, with a
 * message, while {@code target/release/herald} does not exist.
 */
final class BrokerTarget implements AutoCloseable {
    private static final AtomicInteger NEXT = new AtomicInteger();

    final String url;
    private final Process server;
    private final Path dir;
    final int port;

    private BrokerTarget(String url, Process server, Path dir, int port) {
        this.url = url;
        this.server = server;
        this.dir = dir;
        this.port = port;
    }

    static List<Object[]> both() {
        return Arrays.asList(new Object[] {"vm"}, new Object[] {"tcp"});
    }

    static File heraldBinary() {
        String root = System.getProperty("herald.repo.root", "..");
        return new File(root, "target/release/herald");
    }

    /** Skips the calling test unless the herald binary has been built. */
    static File requireHerald() {
        File bin = heraldBinary();
        Assume.assumeTrue("tcp variant skipped: " + bin + " does not exist yet (cargo build --release -p herald-server)",
                bin.canExecute());
        return bin;
    }

    /** A new embedded broker, or a new server. */
    static BrokerTarget start(String transport) throws IOException, InterruptedException {
        if (transport.equals("vm")) {
            return new BrokerTarget("vm://test-" + ProcessHandle.current().pid() + "-" + NEXT.incrementAndGet(), null, null, 0);
        }
        return serve(null);
    }

    /** A new {@code herald serve} with {@code configToml} (null: none) as its configuration file. */
    static BrokerTarget serve(String configToml) throws IOException, InterruptedException {
        requireHerald();
        return serveIn(Files.createTempDirectory("herald-test-"), configToml);
    }

    /**
     * Kills this server at once (as a crash would) and starts another on the same data
     * directory and a new port; the caller closes the new one, which deletes the directory.
     */
    BrokerTarget crashAndRestart() throws IOException, InterruptedException {
        if (server == null) throw new IllegalStateException("an embedded broker cannot be restarted");
        kill();
        String config = Files.exists(dir.resolve("herald.toml"))
                ? new String(Files.readAllBytes(dir.resolve("herald.toml")), StandardCharsets.UTF_8) : null;
        return serveIn(dir, config);
    }

    /** The repository's test-only TLS material (server/tests/data: ca.pem, cert.pem, key.pem, other-ca.pem). */
    static File tlsFile(String name) {
        return new File(new File(System.getProperty("herald.repo.root", "..")), "server/tests/data/" + name);
    }

    /**
     * A new {@code herald serve} whose one listener speaks TLS with the test certificate
     * (issued for localhost and 127.0.0.1 by {@code tlsFile("ca.pem")}); {@link #url} is its
     * {@code tcps://} URL without trust options.
     */
    static BrokerTarget serveTls() throws IOException, InterruptedException {
        requireHerald();
        int port = freePort();
        String config = "[[listener]]\n"
                + "address = \"127.0.0.1:" + port + "\"\n"
                + "tls_cert = \"" + tlsFile("cert.pem").getAbsolutePath() + "\"\n"
                + "tls_key = \"" + tlsFile("key.pem").getAbsolutePath() + "\"\n";
        return launch(Files.createTempDirectory("herald-test-"), config, port, "tcps", false);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static BrokerTarget serveIn(Path dir, String configToml) throws IOException, InterruptedException {
        return launch(dir, configToml, freePort(), "tcp", true);
    }

    /** Starts the server; with {@code listen} the port is given by --listen, else the config names it. */
    private static BrokerTarget launch(Path dir, String configToml, int port, String scheme, boolean listen)
            throws IOException, InterruptedException {
        File bin = requireHerald();
        List<String> cmd = new ArrayList<>(Arrays.asList(bin.getAbsolutePath(), "serve", "--data", dir.resolve("data").toString()));
        if (listen) {
            cmd.add("--listen");
            cmd.add("127.0.0.1:" + port);
        }
        if (configToml != null) {
            Path config = dir.resolve("herald.toml");
            Files.write(config, configToml.getBytes(StandardCharsets.UTF_8));
            cmd.add("--config");
            cmd.add(config.toString());
        }
        File log = dir.resolve("serve-" + port + ".log").toFile();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
        BrokerTarget target = new BrokerTarget(scheme + "://127.0.0.1:" + port, p, dir, port);
        long deadline = System.currentTimeMillis() + 15000;
        while (System.currentTimeMillis() < deadline) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return target;
            } catch (IOException notYet) {
                if (!p.isAlive()) break;
                Thread.sleep(20);
            }
        }
        String output = new String(Files.readAllBytes(log.toPath()), StandardCharsets.UTF_8);
        target.close();
        throw new IOException("herald serve did not start listening on port " + port + ":\n" + output);
    }

    /** Runs {@code herald passwd} and returns the argon2 hash of {@code password}. */
    static String passwordHash(String password) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(requireHerald().getAbsolutePath(), "passwd").redirectErrorStream(false).start();
        p.getOutputStream().write((password + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("herald passwd failed: " + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** Kills the server at once, as a crash would (the test then sees the connection drop). */
    void kill() throws InterruptedException {
        if (server != null) {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override public void close() throws IOException, InterruptedException {
        if (server != null) {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
                server.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (dir != null) {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
