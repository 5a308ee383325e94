package io.agserver.codec;

import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAccessor;
import java.time.temporal.TemporalAmount;
import java.util.Date;
import io.agserver.protocol.Undefined;

/** The serializers that make Java values cross the wire the way their JS counterparts would. */
final class JsModule extends SimpleModule {

  private static final long serialVersionUID = 1L;

  JsModule() {
    super("agserver-js");
    addSerializer(byte[].class, new BinarySerializers.ByteArraySerializer());
    addSerializer(ByteBuffer.class, new BinarySerializers.ByteBufferSerializer());
    addDeserializer(byte[].class, new BinarySerializers.ByteArrayDeserializer());

    JsDateSerializer dates = new JsDateSerializer();
    addSerializer(Date.class, dates);
    addSerializer(Instant.class, dates);
    addSerializer(OffsetDateTime.class, dates);
    addSerializer(ZonedDateTime.class, dates);
    // Other java.time values have no JS counterpart; their ISO text is the useful form, and
    // without the jsr310 module Jackson would refuse them.
    addSerializer(TemporalAccessor.class, ToStringSerializer.instance);
    addSerializer(TemporalAmount.class, ToStringSerializer.instance);
    addSerializer(ZoneId.class, ToStringSerializer.instance);

    addSerializer(Throwable.class, new ThrowableSerializer());
    // Map entries holding it are dropped by the content inclusion filter set in JsonCodec.
    addSerializer(Undefined.class, new com.fasterxml.jackson.databind.ser.std.StdSerializer<Undefined>(Undefined.class) {
      private static final long serialVersionUID = 1L;

      @Override
      public void serialize(Undefined value, com.fasterxml.jackson.core.JsonGenerator generator,
          com.fasterxml.jackson.databind.SerializerProvider provider) throws java.io.IOException {
        generator.writeNull();
      }
    });
  }
}
