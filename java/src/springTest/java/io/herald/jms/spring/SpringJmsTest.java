package io.herald.jms.spring;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.jms.TextMessage;

import io.herald.jms.HeraldConnectionFactory;

import org.junit.Test;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.jms.listener.DefaultMessageListenerContainer;

/** A real third-party JMS client: Spring's JmsTemplate and DefaultMessageListenerContainer on the jakarta jar. */
public class SpringJmsTest {

    @Test
    public void jmsTemplateSendsAndReceives() {
        HeraldConnectionFactory factory = new HeraldConnectionFactory("vm://spring-template");
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
        HeraldConnectionFactory factory = new HeraldConnectionFactory("vm://spring-dmlc");
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
