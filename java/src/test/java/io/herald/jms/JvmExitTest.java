package io.herald.jms;

import static org.junit.Assert.*;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/** No Herald thread keeps the JVM alive, whether the application closes its connections or not. */
public class JvmExitTest {
    @Test
    public void theJvmExitsWhenMainReturns() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        ProcessBuilder pb = new ProcessBuilder(java, "-Xcheck:jni", "-cp", System.getProperty("java.class.path"),
                ExitProbe.class.getName());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        boolean exited = p.waitFor(30, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited) {
            p.destroyForcibly();
            fail("the JVM did not exit after main returned; output:\n" + out);
        }
        assertEquals("exit code; output:\n" + out, 0, p.exitValue());
        assertTrue(out, out.contains("probe done"));
        assertFalse("no JNI warnings:\n" + out, out.contains("WARNING in native method"));
    }
}
