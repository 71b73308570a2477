package io.herald.jms;

import static org.junit.Assert.*;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import javax.jms.Connection;
import javax.jms.IllegalStateException;
import javax.jms.InvalidClientIDException;
import javax.jms.InvalidDestinationException;
import javax.jms.InvalidSelectorException;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.MessageFormatException;
import javax.jms.ResourceAllocationException;
import javax.jms.Session;
import javax.jms.TransactionRolledBackException;

import org.junit.Test;

/** The native boundary: error mapping, raw handle misuse, the Cleaner, the loader override. */
public class NativeBoundaryTest {

    @Test
    public void everyErrorKindMapsToItsJmsException() {
        Object[][] table = {
            {HeraldNativeException.INVALID_SELECTOR, InvalidSelectorException.class},
            {HeraldNativeException.INVALID_DESTINATION, InvalidDestinationException.class},
            {HeraldNativeException.ILLEGAL_STATE, IllegalStateException.class},
            {HeraldNativeException.TRANSACTION_ROLLED_BACK, TransactionRolledBackException.class},
            {HeraldNativeException.MESSAGE_FORMAT, MessageFormatException.class},
            {HeraldNativeException.SECURITY, JMSSecurityException.class},
            {HeraldNativeException.RESOURCE_ALLOCATION, ResourceAllocationException.class},
            {HeraldNativeException.INVALID_CLIENT_ID, InvalidClientIDException.class},
            {HeraldNativeException.IO, JMSException.class},
            {HeraldNativeException.INTERNAL, JMSException.class},
            {HeraldNativeException.PANIC, JMSException.class},
        };
        for (Object[] row : table) {
            HeraldNativeException n = new HeraldNativeException((Integer) row[0], "kind " + row[0]);
            JMSException j = JmsExceptions.convert(n);
            assertEquals("kind " + row[0], row[1], j.getClass());
            assertSame(n, j.getLinkedException());
            assertSame(n, j.getCause());
            assertEquals("kind " + row[0], j.getMessage());
        }
    }

    @Test
    public void coreErrorsArriveAsTheirExceptionClass() throws Exception {
        try {
            new HeraldConnectionFactory("nonsense://x").createConnection();
            fail();
        } catch (JMSException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("nonsense://x"));
            assertEquals(HeraldNativeException.INVALID_ARGUMENT, ((HeraldNativeException) expected.getCause()).kind());
        }
    }

    @Test
    public void staleAndMistypedRawHandlesThrowInsteadOfCrashing() throws Exception {
        Connection c = new HeraldConnectionFactory("vm://raw-handles").createConnection();
        HeraldConnection hc = (HeraldConnection) c;
        long h = hc.handle();
        HeraldSession s = (HeraldSession) c.createSession();
        long sh = s.handle();
        try {
            Native.consumerReceive(sh, 0, false);
            fail("a session handle is not a consumer handle");
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.ILLEGAL_STATE, expected.kind());
        }
        try {
            Native.connectionCreateSession(h, 99);
            fail();
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.INVALID_ARGUMENT, expected.kind());
        }
        try {
            Native.producerSend(0, null, new byte[] {1, 2, 3}, 3, 2, 4, 0, 0, false, false, new long[6]);
            fail();
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.ILLEGAL_STATE, expected.kind());
        }
        long p = Native.sessionCreateProducer(sh, "queue://raw");
        try {
            Native.producerSend(p, null, new byte[] {1, 2, 3}, 3, 2, 4, 0, 0, false, false, new long[6]);
            fail("garbage bytes are not a message");
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.MESSAGE_FORMAT, expected.kind());
        }
        try {
            Native.producerSend(p, null, null, 0, 2, 4, 0, 0, false, false, new long[6]);
            fail();
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.INVALID_ARGUMENT, expected.kind());
        }
        try {
            Native.producerSend(p, null, new byte[] {1, 2, 3}, 4, 2, 4, 0, 0, false, false, new long[6]);
            fail("a length beyond the array is refused");
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.INVALID_ARGUMENT, expected.kind());
        }
        try {
            Native.producerSend(p, null, new byte[] {1, 2, 3}, -1, 2, 4, 0, 0, false, false, new long[6]);
            fail("a negative length is refused");
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.INVALID_ARGUMENT, expected.kind());
        }
        try {
            Native.producerSend(p, null, new byte[] {1, 2, 3}, 3, 2, 4, 0, 0, false, false, new long[2]);
            fail("a result array too short is refused");
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.INVALID_ARGUMENT, expected.kind());
        }
        Native.release(p);
        c.close();
        try {
            Native.connectionStart(h);
            fail("a released handle is refused");
        } catch (HeraldNativeException expected) {
            assertEquals(HeraldNativeException.ILLEGAL_STATE, expected.kind());
        }
        Native.release(h);
    }

    @Test
    public void theCleanerReleasesForgottenConnections() throws Exception {
        int before = Native.liveCount();
        for (int i = 0; i < 50; i++) {
            Connection c = new HeraldConnectionFactory("vm://forgotten").createConnection();
            Session s = c.createSession();
            s.createProducer(s.createQueue("q"));
        }
        assertTrue(Native.liveCount() >= before + 150);
        long deadline = System.currentTimeMillis() + 20_000;
        while (Native.liveCount() > before && System.currentTimeMillis() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertEquals("unreachable connections, sessions and producers are released", before, Native.liveCount());
    }

    private static String runJava(String... args) throws Exception {
        String javaBin = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(javaBin);
        cmd.addAll(java.util.Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue() + ":" + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    public void theLibraryPathPropertyOverridesTheBundledCopy() throws Exception {
        String cp = System.getProperty("java.class.path");
        File lib = new File(System.getProperty("herald.repo.root", ".."), "target/release/libherald_jni.so");
        String ok = runJava("-Dherald.native.path=" + lib.getAbsolutePath(), "-cp", cp, ExitProbe.class.getName());
        assertTrue(ok, ok.startsWith("0:") && ok.contains("probe done"));
        String bad = runJava("-Dherald.native.path=/nonexistent/libherald_jni.so", "-cp", cp, ExitProbe.class.getName());
        assertFalse(bad, bad.startsWith("0:"));
        assertTrue(bad, bad.contains("UnsatisfiedLinkError"));
    }
}
