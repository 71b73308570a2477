package io.herald.jms;

/**
 * The production {@link Provider}: each operation is one call into herald-jni, for
 * {@code vm://} and {@code tcp://} alike. The native library is loaded by the first call, not
 * when this class is loaded.
 */
final class JniProvider implements Provider {
    static final JniProvider INSTANCE = new JniProvider();

    private JniProvider() {}

    @Override public long openConnection(String url, String user, String password, String clientId) {
        return Native.connectionOpen(url, user, password, clientId);
    }

    @Override public void setClientId(long connection, String clientId) {
        Native.connectionSetClientId(connection, clientId);
    }

    @Override public void start(long connection) {
        Native.connectionStart(connection);
    }

    @Override public void stop(long connection) {
        Native.connectionStop(connection);
    }

    @Override public void awaitFailure(long connection, long timeoutMillis) {
        Native.connectionAwaitFailure(connection, timeoutMillis);
    }

    @Override public long createSession(long connection, int sessionMode) {
        return Native.connectionCreateSession(connection, sessionMode);
    }

    @Override public String createTemporary(long connection, boolean topic) {
        return Native.connectionCreateTemporary(connection, topic);
    }

    @Override public void deleteTemporary(long connection, String destinationUri) {
        Native.connectionDeleteTemporary(connection, destinationUri);
    }

    @Override public long createProducer(long session, String destinationUri) {
        return Native.sessionCreateProducer(session, destinationUri);
    }

    @Override public long createConsumer(long session, String destinationUri, String selector, boolean noLocal,
            String subscription, boolean durable, boolean shared) {
        return Native.sessionCreateConsumer(session, destinationUri, selector, noLocal, subscription, durable, shared);
    }

    @Override public long createBrowser(long session, String queueUri, String selector) {
        return Native.sessionCreateBrowser(session, queueUri, selector);
    }

    @Override public void unsubscribe(long session, String subscription) {
        Native.sessionUnsubscribe(session, subscription);
    }

    @Override public void acknowledge(long session) {
        Native.sessionComplete(session, Native.ACKNOWLEDGE);
    }

    @Override public void acknowledgeHeld(long session) {
        Native.sessionComplete(session, Native.ACKNOWLEDGE_HELD);
    }

    @Override public void commit(long session) {
        Native.sessionComplete(session, Native.COMMIT);
    }

    @Override public void rollback(long session) {
        Native.sessionComplete(session, Native.ROLLBACK);
    }

    @Override public void recover(long session) {
        Native.sessionComplete(session, Native.RECOVER);
    }

    @Override public boolean acknowledgesAutomatically(long session) {
        return Native.sessionAcknowledgesAutomatically(session);
    }

    @Override public boolean awaitDelivery(long session, long timeoutMillis) {
        return Native.sessionWait(session, timeoutMillis);
    }

    @Override public void wakeDelivery(long session) {
        Native.sessionRing(session);
    }

    @Override public void send(long producer, String destinationUri, byte[] message, int length, int deliveryMode,
            int priority, long timeToLive, long deliveryDelay, boolean disableMessageId, boolean disableTimestamp,
            long[] sent) {
        Native.producerSend(producer, destinationUri, message, length, deliveryMode, priority, timeToLive, deliveryDelay,
                disableMessageId, disableTimestamp, sent);
    }

    @Override public byte[] receive(long consumer, long timeoutMillis, boolean hold) {
        return Native.consumerReceive(consumer, timeoutMillis, hold);
    }

    @Override public void setWakeup(long consumer, long session) {
        Native.consumerSetWakeup(consumer, session);
    }

    @Override public byte[] browseNext(long browser) {
        return Native.browserNext(browser);
    }

    @Override public void release(long handle) {
        Native.release(handle);
    }
}
