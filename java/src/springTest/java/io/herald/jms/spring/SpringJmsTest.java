package io.herald.jms.spring;

import static org.junit.Assert.*;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.jms.TextMessage;

import io.herald.jms.HeraldConnectionFactory;

import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.jms.listener.DefaultMessageListenerContainer;

/**
 * A real third-party JMS client: Spring's JmsTemplate and DefaultMessageListenerContainer on
 * the jakarta jar, run twice: against a broker embedded in the JVM (vm://) and against a real
 * {@code herald serve} process on a free port of 127.0.0.1 (tcp://), started fresh for each
 * test with its own data directory.
 */
@RunWith(Parameterized.class)
public class SpringJmsTest {
    @Parameterized.Parameters(name = "{0}")
    public static Collection<Object[]> transports() {
        return Arrays.asList(new Object[] {"vm"}, new Object[] {"tcp"});
    }

    @Parameterized.Parameter
    public String transport;

    private Process server;
    private Path dir;
    private String url;
    private static int next;

    @Before
    public void startBroker() throws Exception {
        if (transport.equals("vm")) {
            url = "vm://spring-" + ProcessHandle.current().pid() + "-" + (++next);
            return;
        }
        File bin = new File(System.getProperty("herald.repo.root", ".."), "target/release/herald");
        Assume.assumeTrue("tcp variant skipped: " + bin + " does not exist yet", bin.canExecute());
        dir = Files.createTempDirectory("herald-spring-");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        File log = dir.resolve("serve.log").toFile();
        server = new ProcessBuilder(bin.getAbsolutePath(), "serve", "--listen", "127.0.0.1:" + port,
                "--data", dir.resolve("data").toString()).redirectErrorStream(true).redirectOutput(log).start();
        url = "tcp://127.0.0.1:" + port;
        long deadline = System.currentTimeMillis() + 15000;
        while (true) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!server.isAlive() || System.currentTimeMillis() > deadline) {
                    throw new IOException("herald serve did not listen on " + port + ":\n"
                            + new String(Files.readAllBytes(log.toPath()), StandardCharsets.UTF_8));
                }
                Thread.sleep(20);
            }
        }
    }

    @After
    public void stopBroker() throws Exception {
        if (server != null) {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) {
            try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    public void jmsTemplateSendsAndReceives() {
        HeraldConnectionFactory factory = new HeraldConnectionFactory(url);
        JmsTemplate template = new JmsTemplate(factory);
        template.setReceiveTimeout(2000);
        template.convertAndSend("spring.q", "hello spring");
        template.send("spring.q", s -> {
            TextMessage m = s.createTextMessage("with property");
            m.setIntProperty("n", 7);
            return m;
        });
        assertEquals("hello spring", template.receiveAndConvert("spring.q"));
        TextMessage m = (TextMessage) template.receive("spring.q");
        assertNotNull(m);
        assertEquals(7, (int) unchecked(() -> m.getIntProperty("n")));
        assertNull(template.receiveAndConvert("spring.q"));

        template.setPubSubDomain(true);
        template.setReceiveTimeout(JmsTemplate.RECEIVE_TIMEOUT_NO_WAIT);
        template.convertAndSend("spring.topic", "nobody listens");
    }

    @Test
    public void listenerContainerConsumesEverything() throws Exception {
        HeraldConnectionFactory factory = new HeraldConnectionFactory(url);
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(20);
        DefaultMessageListenerContainer container = new DefaultMessageListenerContainer();
        container.setConnectionFactory(factory);
        container.setDestinationName("spring.work");
        container.setConcurrentConsumers(2);
        container.setReceiveTimeout(200);
        container.setSessionTransacted(true);
        container.setMessageListener((jakarta.jms.MessageListener) message -> {
            got.add(unchecked(() -> ((TextMessage) message).getText()));
            done.countDown();
        });
        container.afterPropertiesSet();
        container.start();
        try {
            JmsTemplate template = new JmsTemplate(factory);
            for (int i = 0; i < 20; i++) template.convertAndSend("spring.work", "job-" + i);
            assertTrue("the container received all 20", done.await(20, TimeUnit.SECONDS));
        } finally {
            container.shutdown();
        }
        assertEquals(20, got.size());
        assertEquals(20, new java.util.HashSet<>(got).size());
        JmsTemplate check = new JmsTemplate(factory);
        check.setReceiveTimeout(200);
        assertNull("committed: nothing left", check.receive("spring.work"));
    }

    interface JmsCall<T> { T call() throws jakarta.jms.JMSException; }

    static <T> T unchecked(JmsCall<T> c) {
        try {
            return c.call();
        } catch (jakarta.jms.JMSException e) {
            throw new AssertionError(e);
        }
    }
}
