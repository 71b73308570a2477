package io.herald.jms;

/**
 * The native methods of herald-jni. Every handle is a {@code long} the Rust side hands
 * out; it is released exactly once by {@link #release}. Errors arrive as
 * {@link HeraldNativeException}. Only {@link JniProvider} calls these (the JMS classes reach
 * it through {@link NativeResource}, which refuses calls on closed handles); tests of the
 * native boundary call them directly.
 */
final class Native {
    static {
        NativeLibrary.load();
        init();
    }

    /** Resolves, once, the Java classes the native side uses. */
    private static native void init();

    private Native() {}

    static native long connectionOpen(String url, String user, String password, String clientId);
    static native void connectionSetClientId(long connection, String clientId);
    static native void connectionStart(long connection);
    static native void connectionStop(long connection);
    /**
     * Blocks until the connection fails, is closed or {@code timeoutMillis} passes (&lt; 0: no
     * limit). Throws the failure (a tcp:// server gone) as a HeraldNativeException; returns
     * normally otherwise. Releasing the handle ends the wait.
     */
    static native void connectionAwaitFailure(long connection, long timeoutMillis);
    static native long connectionCreateSession(long connection, int ackMode);
    /** Returns the destination as {@code temp-queue://NAME} or {@code temp-topic://NAME}. */
    static native String connectionCreateTemporary(long connection, boolean topic);
    static native void connectionDeleteTemporary(long connection, String destination);

    static native long sessionCreateProducer(long session, String destination);
    static native long sessionCreateConsumer(long session, String destination, String selector, boolean noLocal,
            String subscription, boolean durable, boolean shared);
    static native long sessionCreateBrowser(long session, String queue, String selector);
    static native void sessionUnsubscribe(long session, String name);
    /** ACKNOWLEDGE_HELD acknowledges what a listener received with {@code hold} (AUTO/DUPS_OK). */
    static final int ACKNOWLEDGE = 0, COMMIT = 1, ROLLBACK = 2, RECOVER = 3, ACKNOWLEDGE_HELD = 4;
    static native void sessionComplete(long session, int what);
    /**
     * Whether the session acknowledges a listener's message itself once onMessage returns
     * (AUTO_ACKNOWLEDGE, DUPS_OK_ACKNOWLEDGE): the core's rule, asked once per session.
     */
    static native boolean sessionAcknowledgesAutomatically(long session);
    /** Blocks until a listening consumer of the session may have a message; true when woken. */
    static native boolean sessionWait(long session, long timeoutMillis);
    static native void sessionRing(long session);

    /**
     * Sends the message encoded in the first {@code length} bytes of {@code message}; writes
     * {timestamp, expiration, deliveryTime, hasId, idHigh, idLow} into {@code sent} (6 longs).
     */
    static native void producerSend(long producer, String destination, byte[] message, int length, int deliveryMode,
            int priority, long timeToLive, long deliveryDelay, boolean disableMessageId, boolean disableTimestamp,
            long[] sent);

    /**
     * timeout &lt; 0 waits forever, 0 does not wait; returns an encoded delivery or null. With
     * {@code hold} (listener delivery) an AUTO/DUPS_OK session keeps the message
     * unacknowledged until {@code sessionComplete(ACKNOWLEDGE_HELD)} or a recover.
     */
    static native byte[] consumerReceive(long consumer, long timeoutMillis, boolean hold);
    /** Makes the consumer ring its session's doorbell (session 0: stop). */
    static native void consumerSetWakeup(long consumer, long session);

    static native byte[] browserNext(long browser);

    static native void release(long handle);
    static native int liveCount();
}
