package io.herald.jms;

import static org.junit.Assert.*;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/** vm://NAME?dataDir=PATH: persistent messages outlive the JVM that sent them. */
public class PersistenceTest {
    private static String run(String... args) throws Exception {
        String javaBin = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(javaBin, "-cp",
                System.getProperty("java.class.path"), PersistProbe.class.getName()));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue("the probe finished", p.waitFor(60, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(out, 0, p.exitValue());
        return out;
    }

    @Test
    public void persistentMessagesSurviveTheJvm() throws Exception {
        File dir = Files.createTempDirectory("herald-java-journal").toFile();
        try {
            assertTrue(run("send", dir.getPath()).contains("sent"));
            String out = run("receive", dir.getPath());
            assertTrue(out, out.contains("got kept"));
            assertFalse(out, out.contains("got lost"));
            assertFalse("acknowledged: not delivered again", run("receive", dir.getPath()).contains("got kept"));
        } finally {
            File[] files = dir.listFiles();
            if (files != null) for (File f : files) f.delete();
            dir.delete();
        }
    }
}
