package io.herald.jms;

import javax.jms.JMSConsumer;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageFormatRuntimeException;
import javax.jms.MessageListener;

/** JMSConsumer over a classic consumer. */
final class HeraldJMSConsumer implements JMSConsumer {
    private final HeraldConsumer consumer;

    HeraldJMSConsumer(HeraldConsumer consumer) {
        this.consumer = consumer;
    }

    @Override public String getMessageSelector() { return HeraldJMSContext.unchecked(consumer::getMessageSelector); }
    @Override public MessageListener getMessageListener() { return HeraldJMSContext.unchecked(consumer::getMessageListener); }
    @Override public void setMessageListener(MessageListener l) { HeraldJMSContext.unchecked(() -> { consumer.setMessageListener(l); return null; }); }
    @Override public Message receive() { return HeraldJMSContext.unchecked(consumer::receive); }
    @Override public Message receive(long timeout) { return HeraldJMSContext.unchecked(() -> consumer.receive(timeout)); }
    @Override public Message receiveNoWait() { return HeraldJMSContext.unchecked(consumer::receiveNoWait); }
    @Override public void close() { HeraldJMSContext.unchecked(() -> { consumer.close(); return null; }); }

    /** A body of a type that cannot be read as {@code c} is not acknowledged: see HeraldConsumer.receiveBody. */
    private <T> T body(Class<T> c, long nativeTimeout) {
        try {
            return consumer.receiveBody(c, nativeTimeout);
        } catch (javax.jms.MessageFormatException e) {
            throw new MessageFormatRuntimeException(e.getMessage(), e.getErrorCode(), e);
        } catch (JMSException e) {
            throw JmsExceptions.toRuntime(e);
        }
    }

    @Override public <T> T receiveBody(Class<T> c) { return body(c, -1); }
    @Override public <T> T receiveBody(Class<T> c, long timeout) { return body(c, HeraldConsumer.nativeTimeout(timeout)); }
    @Override public <T> T receiveBodyNoWait(Class<T> c) { return body(c, 0); }
}
