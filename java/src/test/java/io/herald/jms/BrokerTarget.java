package io.herald.jms;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Assume;

/**
 * Where a test's broker lives: embedded ({@code vm://}, a fresh broker per test) or a real
 * {@code herald serve} process started on a free port (once per JVM, when
 * {@code target/release/herald} exists).
 */
final class BrokerTarget {
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static Process server;
    private static int serverPort;

    private BrokerTarget() {}

    static List<Object[]> both() {
        return Arrays.asList(new Object[] {"vm"}, new Object[] {"tcp"});
    }

    static File heraldBinary() {
        String root = System.getProperty("herald.repo.root", "..");
        return new File(root, "target/release/herald");
    }

    /** A URL for one test: a new embedded broker, or the shared server. */
    static String url(String transport) throws IOException, InterruptedException {
        if (transport.equals("vm")) {
            return "vm://test-" + ProcessHandle.current().pid() + "-" + NEXT.incrementAndGet();
        }
        File bin = heraldBinary();
        Assume.assumeTrue("tcp variant skipped: " + bin + " does not exist yet (build the herald server to run it)",
                bin.canExecute());
        return "tcp://127.0.0.1:" + startServer(bin);
    }

    private static synchronized int startServer(File bin) throws IOException, InterruptedException {
        if (server != null && server.isAlive()) return serverPort;
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(bin.getAbsolutePath());
        String args = System.getProperty("herald.serve.args", "serve --listen 127.0.0.1:{port}");
        for (String a : args.split(" ")) cmd.add(a.replace("{port}", Integer.toString(port)));
        server = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(new File("build/herald-serve.log")).start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::destroy));
        long deadline = System.currentTimeMillis() + 15000;
        while (System.currentTimeMillis() < deadline) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                serverPort = port;
                return port;
            } catch (IOException notYet) {
                if (!server.isAlive()) break;
                Thread.sleep(50);
            }
        }
        throw new IOException("herald serve did not start listening on port " + port + " (see build/herald-serve.log)");
    }
}
