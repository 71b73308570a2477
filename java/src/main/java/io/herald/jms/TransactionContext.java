package io.herald.jms;

import javax.jms.JMSException;
import javax.jms.Session;

/**
 * The transaction rules of one session, chosen once from its mode when the session is
 * created: {@link LocalTransactionContext} for a transacted session,
 * {@link NoTxTransactionContext} for every acknowledge mode. The session keeps the rules
 * that do not depend on the mode (a closed session, calls from a CompletionListener) and
 * asks its context for the rest; both reach the broker only through the session's
 * {@link NativeResource}, that is through the {@link Provider}.
 */
interface TransactionContext {
    static TransactionContext forMode(int mode, NativeResource session) {
        return mode == Session.SESSION_TRANSACTED ? new LocalTransactionContext(session) : new NoTxTransactionContext(session);
    }

    /** Session.getTransacted(). */
    boolean isTransacted();

    /**
     * The session is about to send a message or has handed one out: in a transacted
     * session, work of the transaction in progress. Called on the session's hot paths, so
     * it does no more than note it.
     */
    void onWork();

    /** Session.commit() on an open session. */
    void commit() throws JMSException;

    /** Session.rollback() on an open session. */
    void rollback() throws JMSException;

    /** Session.recover() on an open session. */
    void recover() throws JMSException;

    /**
     * The session is closing: its listeners have returned and its consumers and producers
     * are closed; its handle is still open and is released right after (which discards
     * uncommitted work by itself). Never throws.
     */
    void close();
}
