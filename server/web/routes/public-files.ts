// Files anyone may fetch: the CA certificate in PEM and DER (.otre) and the current CRL.
import type { FastifyPluginAsync } from 'fastify';
import type { Enrollment } from '../../enroll/enrollment.js';

const publicFileRoutes: FastifyPluginAsync<{ enrollment: Pick<Enrollment, 'caCertificate' | 'crl'> }> = async (
  app,
  { enrollment },
) => {
  app.get('/ca.crt', async (_request, reply) =>
    reply
      .type('application/x-x509-ca-cert')
      .header('content-disposition', 'attachment; filename="ca.crt"')
      .send(enrollment.caCertificate().pem),
  );
  app.get('/ca.otre', async (_request, reply) =>
    reply
      .type('application/octet-stream')
      .header('content-disposition', 'attachment; filename="ca.otre"')
      .send(enrollment.caCertificate().der),
  );
  app.get('/crl.pem', async (request, reply) => {
    const { pem, etag, thisUpdate } = enrollment.crl();
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (thisUpdate) reply.header('last-modified', thisUpdate.toUTCString());
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.type('application/pkix-crl').header('content-disposition', 'attachment; filename="crl.pem"').send(pem);
  });
};
export default publicFileRoutes;
