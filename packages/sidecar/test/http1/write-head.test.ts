import { expect } from 'chai';
import { headerLines, InvalidHeaderError } from '../../src/http1/write-head';

describe('http1/write-head: header lines', () => {
  it('writes the same names again, and refuses a name that is no token after many good ones', () => {
    // Names are remembered once checked (VALID_NAMES): the second and later heads take that path.
    for (let i = 0; i < 3; i++) expect(headerLines({ 'x-a': 'b', 'user-agent': ['c', 'd'], 'Content-Length': '5' })).to.equal('x-a: b\r\nuser-agent: c\r\nuser-agent: d\r\n');
    // More distinct names than are remembered: each still checked and written.
    for (let i = 0; i < 600; i++) expect(headerLines({ [`x-name-${i}`]: 'v' })).to.equal(`x-name-${i}: v\r\n`);
    for (const name of ['x a', 'x(a)', 'x-a\r\nx-smuggled', '']) expect(() => headerLines({ 'x-a': 'b', [name]: 'v' }), JSON.stringify(name)).to.throw(InvalidHeaderError);
    expect(() => headerLines({ 'x-a': 'b\r\nx-smuggled: 1' })).to.throw(InvalidHeaderError);
    // A long name (not remembered) is checked every time.
    const long = `x-${'long'.repeat(40)}`;
    for (let i = 0; i < 2; i++) expect(headerLines({ [long]: 'v' })).to.equal(`${long}: v\r\n`);
    expect(() => headerLines({ [`${long} `]: 'v' })).to.throw(InvalidHeaderError);
  });
});
